// The optional forced-command setup (RELIABILITY case 15): an authorized_keys line that lets the
// console's key run only `keel-agent serve` (through forced/keel-forced.mjs), with no pty, no
// forwarding of any kind, no ~/.ssh/rc, and installing that gate next to the agent.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type SshConnection } from "./connection";
import { uploadFile } from "./agent-install";
import { SshError } from "./errors";
import { DEFAULT_AGENT_PATH, isSafeAbsolutePath } from "./target";

export const DEFAULT_GATE_PATH = "/usr/local/lib/keel/keel-forced.mjs";
export const FORCED_OPTIONS =
  "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,restrict";

const PUBKEY_RE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [\x21-\x7e ]{0,200})?$/;

/** The authorized_keys line for the console's public key in forced-command mode. */
export function forcedCommandLine(opts: {
  publicKey: string;
  agentPath?: string;
  gatePath?: string;
  nodePath?: string;
  from?: string;
}): string {
  const agentPath = opts.agentPath ?? DEFAULT_AGENT_PATH;
  const gatePath = opts.gatePath ?? DEFAULT_GATE_PATH;
  const nodePath = opts.nodePath ?? "/usr/bin/node";
  for (const [what, p] of [
    ["agent path", agentPath],
    ["gate path", gatePath],
    ["node path", nodePath],
  ] as const) {
    if (!isSafeAbsolutePath(p))
      throw new SshError(
        "INVALID_ARGUMENT",
        `The ${what} ${JSON.stringify(p)} is not a plain absolute path.`,
        { step: "validate" },
      );
  }
  const key = opts.publicKey.trim();
  if (!PUBKEY_RE.test(key) || key.includes('"'))
    throw new SshError(
      "INVALID_ARGUMENT",
      "The console's public key is not a single OpenSSH public key line.",
      { step: "validate" },
    );
  let from = "";
  if (opts.from !== undefined) {
    if (!/^[0-9A-Za-z.:/*?!,-]{1,512}$/.test(opts.from))
      throw new SshError(
        "INVALID_ARGUMENT",
        "The from= pattern holds characters authorized_keys does not allow.",
        { step: "validate" },
      );
    from = `from="${opts.from}",`;
  }
  return `${from}command="${nodePath} ${gatePath} ${agentPath}",${FORCED_OPTIONS} ${key}`;
}

export function defaultGateSource(): string {
  return join(process.cwd(), "server/ssh/forced/keel-forced.mjs");
}

/** Install the forced-command gate on a host (before switching its key to forced mode). */
export async function installForcedGate(
  conn: SshConnection,
  opts: { gatePath?: string; source?: string } = {},
): Promise<{ sha256: string }> {
  const bytes = await readFile(opts.source ?? defaultGateSource());
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await uploadFile(conn, opts.gatePath ?? DEFAULT_GATE_PATH, bytes, sha256, "0755", "upload-agent");
  return { sha256 };
}
