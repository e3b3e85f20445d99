// Where to go after signing in: only paths on this site, never another origin
// ("//evil.example", "https://…", "/\\evil" are all refused).
export function safeNext(value: string | string[] | undefined): string {
  const next = Array.isArray(value) ? value[0] : value;
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  if (next.startsWith("/sign-in")) return "/";
  return next;
}
