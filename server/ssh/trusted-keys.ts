// Install the release-signing public keys a host trusts into /etc/keel/trusted.d/<keyId>.pub.
// Keys are parsed (agent/protocol) before anything is sent, each file is written atomically, and
// with `exclusive` every other *.pub there is removed so the host trusts exactly this set.
import { createHash } from "node:crypto";
import { KEY_ID_PATTERN, formatPublicKey, parsePublicKey } from "@/agent/protocol";
import { uploadFile } from "./agent-install";
import { type SshConnection } from "./connection";
import { lossyText } from "./exec";
import { privileged } from "./privileged";
import { SshError } from "./errors";
import { printable } from "./target";

export const TRUSTED_KEYS_DIR = "/etc/keel/trusted.d";

export interface InstallTrustedKeysResult {
  host: string;
  installed: string[];
  unchanged: string[];
  removed: string[];
}

export async function installTrustedKeys(
  conn: SshConnection,
  publicKeys: readonly string[],
  opts: { exclusive?: boolean; dir?: string } = {},
): Promise<InstallTrustedKeysResult> {
  const t = conn.target;
  const dir = opts.dir ?? TRUSTED_KEYS_DIR;
  const keys = publicKeys.map((text, i) => {
    try {
      const k = parsePublicKey(text);
      return {
        keyId: k.keyId,
        body: Buffer.from(formatPublicKey(k.raw, k.comment.replace(/[^\x20-\x7e]/g, ""))),
      };
    } catch (e) {
      throw new SshError(
        "INVALID_ARGUMENT",
        `Signing key #${i + 1} is not a valid public key: ${(e as Error).message}. Nothing was installed on ${t.name}.`,
        {
          host: t.name,
          step: "install-keys",
        },
      );
    }
  });
  const res: InstallTrustedKeysResult = { host: t.name, installed: [], unchanged: [], removed: [] };
  const existing = await listPub(conn, dir);
  for (const k of keys) {
    const path = `${dir}/${k.keyId}.pub`;
    const sha = createHash("sha256").update(k.body).digest("hex");
    if (existing.has(`${k.keyId}.pub`)) {
      const r = await conn.exec(privileged(t, ["sha256sum", "--", path]), {
        step: "install-keys",
        maxOutputBytes: 64 * 1024,
      });
      if (r.exitCode === 0 && lossyText(r.stdout).startsWith(sha)) {
        res.unchanged.push(k.keyId);
        continue;
      }
    }
    await uploadFile(conn, path, k.body, sha, "0644", "install-keys");
    res.installed.push(k.keyId);
  }
  if (opts.exclusive) {
    const keep = new Set(keys.map((k) => `${k.keyId}.pub`));
    for (const f of existing) {
      if (keep.has(f)) continue;
      await conn.run(privileged(t, ["rm", "-f", "--", `${dir}/${f}`]), { step: "install-keys" });
      res.removed.push(f.replace(/\.pub$/, ""));
    }
  }
  return res;
}

async function listPub(conn: SshConnection, dir: string): Promise<Set<string>> {
  const t = conn.target;
  const argv = privileged(t, [
    "find",
    dir,
    "-maxdepth",
    "1",
    "-type",
    "f",
    "-name",
    "*.pub",
    "-printf",
    "%f\\n",
  ]);
  const r = await conn.exec(argv, { step: "install-keys", maxOutputBytes: 1024 * 1024 });
  if (r.exitCode !== 0) {
    if (/No such file/.test(lossyText(r.stderr))) return new Set();
    throw new SshError(
      "COMMAND_FAILED",
      `Listing ${dir} on ${t.name} failed: ${printable(lossyText(r.stderr).trim(), 200)}`,
      { host: t.name, step: "install-keys" },
    );
  }
  return new Set(
    lossyText(r.stdout)
      .split("\n")
      .filter((f) => f.endsWith(".pub") && KEY_ID_PATTERN.test(f.slice(0, -4))),
  );
}
