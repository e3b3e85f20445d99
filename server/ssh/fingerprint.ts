// Host key fingerprints in OpenSSH's format: "SHA256:" + base64 (no padding) of the SHA-256 of
// the key blob as sent on the wire — the same string `ssh-keygen -lf` prints, so an admin can
// compare what the console shows with what the host's console shows.
import { createHash, timingSafeEqual } from "node:crypto";

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function fingerprintOfKey(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The key type named at the start of an SSH public key blob (e.g. "ssh-ed25519"). */
export function keyTypeOfKey(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const len = keyBlob.readUInt32BE(0);
  if (len > 64 || 4 + len > keyBlob.length) return "unknown";
  return keyBlob.subarray(4, 4 + len).toString("latin1");
}

export function isFingerprint(s: unknown): s is string {
  return typeof s === "string" && FINGERPRINT_RE.test(s);
}

/** Constant-time comparison of two fingerprints (both must be well-formed). */
export function sameFingerprint(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
