// Release signing keys: ed25519 via node:crypto. A public key travels as one text line
// `keel-ed25519 <base64 of the 32 raw key bytes> [comment]` (files in /etc/keel/trusted.d/*.pub);
// PEM (SPKI) is accepted too. A private key is a PKCS#8 PEM file.
//
// Key id: the first 16 hex digits of SHA-256 over the 32 raw public key bytes. It names the
// signer in a manifest; the agent looks the key up by id, then checks the signature with it.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";

export const PUBLIC_KEY_PREFIX = "keel-ed25519";
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

export interface PublicKeyInfo {
  keyId: string;
  /** 32 raw ed25519 public key bytes. */
  raw: Buffer;
  key: KeyObject;
  comment: string;
}

export function keyIdOf(raw: Buffer): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

function rawFromKeyObject(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || typeof jwk.x !== "string") throw new Error("not an ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error("an ed25519 public key has 32 bytes");
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
    format: "jwk",
  });
}

/** Parses a public key file's text (`keel-ed25519 …` line or PEM). Throws on anything else. */
export function parsePublicKey(text: string): PublicKeyInfo {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN PUBLIC KEY-----")) {
    const key = createPublicKey(trimmed);
    if (key.asymmetricKeyType !== "ed25519") throw new Error("public key is not ed25519");
    const raw = rawFromKeyObject(key);
    return { keyId: keyIdOf(raw), raw, key: publicKeyFromRaw(raw), comment: "" };
  }
  const [prefix, b64, ...rest] = trimmed.split(/\s+/);
  if (prefix !== PUBLIC_KEY_PREFIX || !b64 || !/^[A-Za-z0-9+/]{43}=$/.test(b64)) {
    throw new Error(`public key must be a "${PUBLIC_KEY_PREFIX} <base64>" line or a PEM public key`);
  }
  const raw = Buffer.from(b64, "base64");
  return { keyId: keyIdOf(raw), raw, key: publicKeyFromRaw(raw), comment: rest.join(" ") };
}

export function formatPublicKey(raw: Buffer, comment = ""): string {
  return `${PUBLIC_KEY_PREFIX} ${raw.toString("base64")}${comment ? ` ${comment}` : ""}\n`;
}

export interface GeneratedKey {
  keyId: string;
  /** PKCS#8 PEM; keep secret. */
  privateKeyPem: string;
  /** `keel-ed25519 …` line for trusted.d. */
  publicKeyLine: string;
}

export function generateSigningKey(comment = ""): GeneratedKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = rawFromKeyObject(publicKey);
  return {
    keyId: keyIdOf(raw),
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    publicKeyLine: formatPublicKey(raw, comment),
  };
}

export interface SigningKey {
  keyId: string;
  key: KeyObject;
}

/** Loads a PKCS#8 PEM private key and derives its key id. */
export function parsePrivateKey(pem: string | Buffer): SigningKey {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("private key is not ed25519");
  return { keyId: keyIdOf(rawFromKeyObject(createPublicKey(key))), key };
}

export function signBytes(bytes: Buffer, key: SigningKey): string {
  return sign(null, bytes, key.key).toString("base64");
}

export function verifyBytes(bytes: Buffer, signatureB64: string, key: KeyObject): boolean {
  const sig = Buffer.from(signatureB64, "base64");
  if (sig.length !== 64) return false;
  return verify(null, bytes, key, sig);
}
