// `keygen --out DIR [--name NAME]`: a new ed25519 release signing key. The private key file is
// created with mode 0600 and never overwritten.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKey, type KeygenArgs, type KeygenResult } from "../../protocol";
import { AgentError } from "../errors";

export function keygen(args: KeygenArgs): KeygenResult {
  const key = generateSigningKey(args.name);
  mkdirSync(args.out, { recursive: true, mode: 0o700 });
  const privateKeyPath = join(args.out, `${args.name}.key`);
  const publicKeyPath = join(args.out, `${args.name}.pub`);
  try {
    writeFileSync(privateKeyPath, key.privateKeyPem, { mode: 0o600, flag: "wx" });
    writeFileSync(publicKeyPath, key.publicKeyLine, { mode: 0o644, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new AgentError(
        "BAD_REQUEST",
        "keygen",
        `${privateKeyPath} or ${publicKeyPath} exists already; keygen never overwrites a key`,
      );
    }
    throw e;
  }
  return { keyId: key.keyId, publicKey: key.publicKeyLine.trim(), privateKeyPath, publicKeyPath };
}
