// API token format: "keel_" + 43 base64url characters (32 random bytes). Only the SHA-256 of the
// whole token is stored; the first 12 characters are kept to tell tokens apart.
import { createHash, randomBytes } from "node:crypto";

export const TOKEN_PREFIX = "keel_";
const TOKEN_RE = /^keel_[A-Za-z0-9_-]{43}$/;

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function isTokenShaped(s: string): boolean {
  return TOKEN_RE.test(s);
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function tokenDisplayPrefix(token: string): string {
  return token.slice(0, 12);
}
