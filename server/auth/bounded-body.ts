// Request bodies with a ceiling (docs/decisions/0017-bounded-input.md). Every route reads its body
// through readBoundedText: it stops at the route's limit whether or not the request declared a
// length (a chunked body has none), answers 413 with the limit in the message, and never keeps
// more than the limit in memory. It does not cancel the body (that would drop the connection
// before the answer is sent): the HTTP server (infra/start/body-guard.ts) closes a connection
// whose body was left unread once the answer is out, instead of reading the rest.
// Text must be valid UTF-8 without NUL or lone surrogates (./valid-text.ts): 400 otherwise.
import { jsonError } from "./request-guard";
import { findInvalidText } from "./valid-text";

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** Per-route body limits, in bytes. The upload route streams and enforces its own rules. */
export const BODY_LIMITS = {
  auth: 64 * KIB,
  trpc: 1 * MIB,
  /** What an anonymous or unauthorized upload may cost the console before it is refused. */
  uploadRefused: 64 * KIB,
  /** Pages and Next's own endpoints (server actions): Next's default for server actions. */
  other: 1 * MIB,
} as const;

/** The body limit of a path, or null for the streaming upload (it checks the caller first). */
export function bodyLimitFor(pathname: string): number | null {
  if (pathname === "/api/releases/upload") return null;
  if (pathname === "/api/auth" || pathname.startsWith("/api/auth/")) return BODY_LIMITS.auth;
  if (pathname === "/api/trpc" || pathname.startsWith("/api/trpc/")) return BODY_LIMITS.trpc;
  return BODY_LIMITS.other;
}

export function describeBytes(n: number): string {
  return n >= MIB && n % MIB === 0
    ? `${n / MIB} MiB`
    : n >= KIB && n % KIB === 0
      ? `${n / KIB} KiB`
      : `${n} bytes`;
}

export function tooLarge(limit: number, what = "Request bodies"): Response {
  return jsonError(
    413,
    "PAYLOAD_TOO_LARGE",
    `${what} are limited to ${describeBytes(limit)}; this one is larger. Nothing was changed.`,
  );
}

export type BoundedText =
  { ok: true; text: string } | { ok: false; response: Response; reason: "too_large" | "invalid_text" };

/**
 * Reads a request's body as UTF-8 text, at most `limit` bytes. A declared length above the limit
 * is refused before anything is read; an undeclared one is read until it passes the limit.
 */
export async function readBoundedText(req: Request, limit: number): Promise<BoundedText> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit)
    return { ok: false, response: tooLarge(limit), reason: "too_large" };
  if (!req.body) return { ok: true, text: "" };
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.byteLength;
      if (got > limit) return { ok: false, response: tooLarge(limit), reason: "too_large" };
      parts.push(value);
    }
  } finally {
    // Not cancel(): that would destroy the connection before the 413 is written.
    reader.releaseLock();
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(parts));
  } catch {
    return { ok: false, response: invalidText("the body is not valid UTF-8"), reason: "invalid_text" };
  }
  return { ok: true, text };
}

export function invalidText(where: string): Response {
  return jsonError(
    400,
    "INVALID_TEXT",
    `Refused: ${where}. Text may not contain NUL characters, lone surrogates or invalid UTF-8.`,
  );
}

/**
 * Reads a JSON body within `limit` and checks every string in it. Returns the parsed value and a
 * copy of the request that carries the same bytes (for handlers that read the body themselves).
 */
export async function readBoundedJson(
  req: Request,
  limit: number,
): Promise<
  | { ok: true; value: unknown; request: Request }
  | { ok: false; response: Response; reason: "too_large" | "invalid_text" | "malformed" }
> {
  const read = await readBoundedText(req, limit);
  if (!read.ok) return read;
  let value: unknown = undefined;
  if (read.text.trim() !== "") {
    try {
      value = JSON.parse(read.text);
    } catch {
      return {
        ok: false,
        response: jsonError(400, "BAD_REQUEST", "The body is not valid JSON."),
        reason: "malformed",
      };
    }
    const bad = findInvalidText(value);
    if (bad !== null)
      return {
        ok: false,
        response: invalidText(`the field ${bad || "(body)"} holds invalid text`),
        reason: "invalid_text",
      };
  }
  const request = new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body: read.text,
    signal: req.signal,
  });
  return { ok: true, value, request };
}
