// The console's SSH identity: one ed25519 key pair in <KEEL_DATA_DIR>/ssh/ (KEEL_SSH_KEY names
// another private key file), created on first use. Its public half is what hosts authorize
// (the lab does it for its hosts; docs/ssh.md shows the authorized_keys line for real ones).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { utils } from "ssh2";

export type ConsoleIdentity = { privateKeyPath: string; privateKey: string; publicKey: string };

type IdentityOptions = { dataDir?: string; keyPath?: string };

function keyPathOf(opts: IdentityOptions): string {
  return resolve(
    opts.keyPath ??
      process.env.KEEL_SSH_KEY ??
      join(opts.dataDir ?? process.env.KEEL_DATA_DIR ?? ".keel", "ssh", "id_ed25519"),
  );
}

/** The console's public key line, or null when the console has not made its key yet (it does at start). */
export function readConsolePublicKey(opts: IdentityOptions = {}): string | null {
  const keyPath = keyPathOf(opts);
  if (!existsSync(keyPath)) return null;
  return consoleIdentity(opts).publicKey;
}

export function consoleIdentity(opts: IdentityOptions = {}): ConsoleIdentity {
  const keyPath = keyPathOf(opts);
  if (!existsSync(keyPath)) {
    mkdirSync(dirname(keyPath), { recursive: true, mode: 0o700 });
    const pair = utils.generateKeyPairSync("ed25519", { comment: "keel-console" });
    writeFileSync(keyPath, pair.private, { mode: 0o600 });
    writeFileSync(`${keyPath}.pub`, pair.public + "\n", { mode: 0o644 });
  }
  chmodSync(keyPath, 0o600);
  const privateKey = readFileSync(keyPath, "utf8");
  let publicKey: string;
  if (existsSync(`${keyPath}.pub`)) publicKey = readFileSync(`${keyPath}.pub`, "utf8").trim();
  else {
    const parsed = utils.parseKey(privateKey);
    if (parsed instanceof Error)
      throw new Error(`the console's SSH key ${keyPath} cannot be read: ${parsed.message}`);
    publicKey = `${parsed.type} ${parsed.getPublicSSH().toString("base64")} keel-console`;
  }
  return { privateKeyPath: keyPath, privateKey, publicKey };
}
