// Where to go after signing in: only a path on this console, judged after normalization the way
// a browser would read it. Browsers drop tabs and newlines inside URLs and read "\" as "/", so
// "/\t/evil.example" or "/\\evil.example" becomes "//evil.example", another site. The value is
// decoded (up to three times, for double encoding) and refused when any form of it has a control
// character, whitespace or a backslash before the query, starts with anything but exactly one
// "/", or resolves to another origin; it loops back to sign-in → "/". What is returned is the
// value re-serialized by the URL parser (path, query, fragment), never the raw input.
const BASE = "http://keel.invalid";
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SPACE_OR_BACKSLASH = /[\s\\\u200b-\u200f\u2028\u2029\ufeff]/;

function pathPart(s: string): string {
  return s.split(/[?#]/, 1)[0]!;
}

function acceptable(s: string): boolean {
  return (
    !CONTROL.test(s) && !SPACE_OR_BACKSLASH.test(pathPart(s)) && s.startsWith("/") && !s.startsWith("//")
  );
}

export function safeNext(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw || raw.length > 2048) return "/";
  let form = raw;
  for (let i = 0; i < 3; i++) {
    if (!acceptable(form)) return "/";
    let decoded: string;
    try {
      decoded = decodeURIComponent(form);
    } catch {
      return "/"; // malformed escapes: not something the console links to
    }
    if (decoded === form) break;
    form = decoded;
  }
  if (!acceptable(form)) return "/";
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return "/";
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== BASE || !path.startsWith("/") || path.startsWith("//")) return "/";
  const pathname = new URL(form, BASE).pathname; // the decoded form: "/%73ign-in" is /sign-in too
  if (pathname === "/sign-in" || pathname.startsWith("/sign-in/")) return "/";
  return path;
}
