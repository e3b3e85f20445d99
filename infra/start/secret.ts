// KEEL_SECRET (signs session cookies, encrypts signing keys): from the environment, or
// generated once into <data dir>/secret (mode 600) and reused on every start.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function ensureSecret(dataDir: string, fromEnv: string | undefined): string {
  if (fromEnv) return fromEnv;
  const file = join(dataDir, "secret");
  if (!existsSync(file))
    writeFileSync(file, randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32)
    throw new Error(`${file} holds too short a secret; remove it to have a new one generated`);
  return secret;
}
