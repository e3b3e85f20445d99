// App name and version validation (DESIGN.md patterns) and version ordering. Used by the console,
// the API and the agent alike, so that a name is judged the same way everywhere.

/** App names: lower-case ASCII, digits, `.`, `_`, `-`; 1–64 characters; no leading punctuation. */
export const APP_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Versions: ASCII letters, digits, `.`, `_`, `+`, `~`, `-`; 1–64 characters; no leading punctuation. */
export const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+~-]{0,63}$/;

/** Why a name was refused, or null when it is fine. */
function nameProblem(kind: "app name" | "version", value: unknown, pattern: RegExp): string | null {
  if (typeof value !== "string") return `${kind} must be a string`;
  if (value.length === 0) return `${kind} must not be empty`;
  if (value.length > 64) return `${kind} is longer than 64 characters`;
  if (value.includes("..")) return `${kind} must not contain ".."`;
  if (value.includes("/")) return `${kind} must not contain "/"`;
  if (!pattern.test(value)) {
    return `${kind} ${JSON.stringify(value)} does not match ${pattern.source}`;
  }
  return null;
}

export function appNameProblem(value: unknown): string | null {
  return nameProblem("app name", value, APP_NAME_PATTERN);
}

/** Names the store uses for its own symlinks; a version cannot be called like them. */
export const RESERVED_VERSIONS = ["current", "previous"] as const;

export function versionProblem(value: unknown): string | null {
  if ((RESERVED_VERSIONS as readonly unknown[]).includes(value))
    return `version ${JSON.stringify(value)} is reserved`;
  return nameProblem("version", value, VERSION_PATTERN);
}

export function isValidAppName(value: unknown): value is string {
  return appNameProblem(value) === null;
}

export function isValidVersion(value: unknown): value is string {
  return versionProblem(value) === null;
}

const TOKEN = /\d+|[A-Za-z]+|[^0-9A-Za-z]/g;

/**
 * Orders versions the way people expect: runs of digits compare as numbers (`1.10` > `1.9`),
 * runs of letters compare as text, and `~` sorts before everything, even the end of the string
 * (Debian's rule, so `1.0~rc1` < `1.0`). A pre-release marked with `-` sorts before its release
 * (`1.0-rc.1` < `1.0`), as in semver; `+build` metadata sorts after. Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const ta = a.match(TOKEN) ?? [];
  const tb = b.match(TOKEN) ?? [];
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === y) continue;
    const r = compareToken(x, y);
    if (r !== 0) return r;
  }
  return 0;
}

/** Rank of a separator/end: `~` < `-` (pre-release) < end < `.` `_` `+` and everything else. */
function rank(t: string | undefined): number {
  if (t === undefined) return 2;
  if (t === "~") return 0;
  if (t === "-") return 1;
  if (/^\d/.test(t)) return 4;
  if (/^[A-Za-z]/.test(t)) return 5;
  return 3;
}

function compareToken(x: string | undefined, y: string | undefined): number {
  const rx = rank(x);
  const ry = rank(y);
  if (x !== undefined && y !== undefined && rx === 4 && ry === 4) {
    const nx = BigInt(x);
    const ny = BigInt(y);
    if (nx !== ny) return nx < ny ? -1 : 1;
    // Same number, different spelling (`01` vs `1`): longer spelling sorts later, for a total order.
    return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
  }
  if (x !== undefined && y !== undefined && rx === 5 && ry === 5) {
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (rx !== ry) return rx < ry ? -1 : 1;
  if (x === undefined || y === undefined) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sorts versions oldest first (a new array). */
export function sortVersions(versions: readonly string[]): string[] {
  return [...versions].sort(compareVersions);
}
