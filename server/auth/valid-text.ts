// Text the console accepts: no NUL (PostgreSQL cannot store it in text and failed with a 500),
// no lone UTF-16 surrogates (they cannot be written as UTF-8 and would be silently replaced).
// Used on every tRPC input (server/trpc/init.ts) and every auth body (./bounded-body.ts).

export function isValidText(s: string): boolean {
  return !s.includes("\u0000") && (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * The path (`a.b[2]`) of the first string or object key holding invalid text in `value`, "" for
 * the value itself, or null when everything is valid. Deeply nested values are walked up to a
 * depth of 64 (deeper input is refused as invalid rather than walked).
 */
export function findInvalidText(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "string") return isValidText(value) ? null : path;
  if (value === null || typeof value !== "object") return null;
  if (depth > 64) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findInvalidText(value[i], `${path}[${i}]`, depth + 1);
      if (bad !== null) return bad;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (!isValidText(k)) return p;
    const bad = findInvalidText(v, p, depth + 1);
    if (bad !== null) return bad;
  }
  return null;
}
