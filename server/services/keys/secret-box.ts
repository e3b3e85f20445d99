// Encryption at rest for signing keys' private halves: AES-256-GCM under a key derived (HKDF-SHA256)
// from KEEL_SECRET, or, when that is not set, from a random key file in the data directory
// (<dataDir>/signing-keys.secret, mode 0600, created on first use). The ciphertext is bound to the
// key id (GCM additional data), so swapping rows in the database does not decrypt.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "@/server/errors";

const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_FILE = "signing-keys.secret";

export interface SecretBox {
  /** Where the master key comes from, for messages (never the key itself). */
  readonly source: "KEEL_SECRET" | "key file";
  seal(plaintext: Buffer, keyId: string): Buffer;
  open(sealed: Buffer, keyId: string): Buffer;
}

function deriveKey(material: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", material, "keel", "keel/signing-keys/v1", 32));
}

function keyFileMaterial(dataDir: string): Buffer {
  const file = join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process made it first
    }
  }
  chmodSync(file, 0o600);
  const b = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (b.length < 32) throw new Error(`${file} is damaged: it must hold 32 random bytes in base64`);
  return b;
}

export function createSecretBox(opts: { secret?: string; dataDir: string }): SecretBox {
  const source = opts.secret ? "KEEL_SECRET" : "key file";
  const key = deriveKey(opts.secret ? Buffer.from(opts.secret, "utf8") : keyFileMaterial(opts.dataDir));
  return {
    source,
    seal(plaintext, keyId) {
      const iv = randomBytes(IV_BYTES);
      const c = createCipheriv("aes-256-gcm", key, iv);
      c.setAAD(Buffer.from(keyId, "utf8"));
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return Buffer.concat([Buffer.from([FORMAT_V1]), iv, body, c.getAuthTag()]);
    },
    open(sealed, keyId) {
      if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) {
        throw new AppError("PRECONDITION_FAILED", {
          message: `signing key ${keyId}: stored private key has an unknown format`,
        });
      }
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      const d = createDecipheriv("aes-256-gcm", key, iv);
      d.setAAD(Buffer.from(keyId, "utf8"));
      d.setAuthTag(tag);
      try {
        return Buffer.concat([d.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
      } catch {
        throw new AppError("PRECONDITION_FAILED", {
          message: `signing key ${keyId} cannot be decrypted with the console's ${source}: was it changed since the key was created?`,
        });
      }
    },
  };
}
