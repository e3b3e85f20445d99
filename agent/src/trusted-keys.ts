// Loads the release signing keys this host trusts: every *.pub file in the trusted directory
// (/etc/keel/trusted.d by default). An unreadable or malformed file is reported, not skipped silently.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parsePublicKey, type PublicKeyInfo } from "../protocol";
import { AgentError } from "./errors";

export function loadTrustedKeys(dir: string, step: string): PublicKeyInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".pub"))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return names.map((n) => {
    try {
      return parsePublicKey(readFileSync(join(dir, n), "utf8"));
    } catch (e) {
      throw new AgentError(
        "UNTRUSTED_KEY",
        step,
        `trusted key file ${join(dir, n)} is not a valid public key: ${(e as Error).message}`,
      );
    }
  });
}
