// Installing the agent on a host: the console's bundle (agent/dist/keel-agent.mjs) is compared by
// digest and uploaded only when it differs, written beside the target and renamed over it.
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runAgent } from "./agent-run";
import { type SshConnection } from "./connection";
import { SshError, type SshStep } from "./errors";
import { lossyText, type ExecResult } from "./exec";
import { agentPathOf, privileged, runPrivileged, sudoOrFailure } from "./privileged";
import { printable } from "./target";

export const MIN_NODE_MAJOR = 20;

export function defaultBundlePath(): string {
  return process.env.KEEL_AGENT_BUNDLE ?? join(process.cwd(), "agent/dist/keel-agent.mjs");
}

export interface AgentBundle {
  path: string;
  bytes: Buffer;
  sha256: string;
}

export async function loadAgentBundle(path = defaultBundlePath()): Promise<AgentBundle> {
  const bytes = await readFile(path);
  return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export interface EnsureAgentResult {
  host: string;
  action: "unchanged" | "uploaded";
  /** sha256 (hex) of the agent now on the host. */
  sha256: string;
  previousSha256: string | null;
  nodeVersion: string;
}

/**
 * Make sure the host has exactly the console's agent bundle at its agent path. Checks node
 * (≥ 20) and, for a sudo login, that `sudo -n` works; uploads only when the digest differs:
 * written to a temporary file beside the target, checked, then renamed over it (atomic).
 */
export async function ensureAgent(
  conn: SshConnection,
  opts: { bundle?: AgentBundle } = {},
): Promise<EnsureAgentResult> {
  const t = conn.target;
  const bundle = opts.bundle ?? (await loadAgentBundle());
  const path = agentPathOf(t);
  if (t.forcedCommand) return checkForcedAgent(conn, bundle);

  // Both checks at once on two channels of the same connection: one round trip, not two.
  const [nodeR, previous] = await Promise.allSettled([
    conn.exec(privileged(t, [t.nodePath ?? "node", "--version"]), {
      step: "check-agent",
      maxOutputBytes: 64 * 1024,
    }),
    remoteSha256(conn, path),
  ]);
  if (nodeR.status === "rejected") throw nodeR.reason;
  return finishEnsure(conn, bundle, path, nodeR.value, previous);
}

async function finishEnsure(
  conn: SshConnection,
  bundle: AgentBundle,
  path: string,
  nodeR: ExecResult,
  previous: PromiseSettledResult<string | null>,
): Promise<EnsureAgentResult> {
  const t = conn.target;
  if (nodeR.exitCode !== 0) {
    const e = sudoOrFailure(t, privileged(t, [t.nodePath ?? "node", "--version"]), nodeR, "check-agent");
    if (e.code === "SUDO_REFUSED") throw e;
    throw new SshError(
      "AGENT_MISSING_NODE",
      `node was not found on ${t.name} (exit ${nodeR.exitCode}). Install Node.js ≥ ${MIN_NODE_MAJOR} on the host.`,
      {
        host: t.name,
        step: "check-agent",
        cause: e,
      },
    );
  }
  const nodeVersion = lossyText(nodeR.stdout).trim();
  const major = Number(/^v(\d+)\./.exec(nodeVersion)?.[1] ?? "0");
  if (major < MIN_NODE_MAJOR) {
    throw new SshError(
      "AGENT_MISSING_NODE",
      `${t.name} has node ${printable(nodeVersion)}; keel-agent needs Node.js ≥ ${MIN_NODE_MAJOR}. Upgrade node on the host.`,
      {
        host: t.name,
        step: "check-agent",
      },
    );
  }

  if (previous.status === "rejected") throw previous.reason;
  const previousSha256 = previous.value;
  if (previousSha256 === bundle.sha256)
    return { host: t.name, action: "unchanged", sha256: bundle.sha256, previousSha256, nodeVersion };

  await uploadFile(conn, path, bundle.bytes, bundle.sha256, "0755", "upload-agent");
  return { host: t.name, action: "uploaded", sha256: bundle.sha256, previousSha256, nodeVersion };
}

/** With a forced command only `serve` runs: ask the agent for its digest, never upload. */
async function checkForcedAgent(conn: SshConnection, bundle: AgentBundle): Promise<EnsureAgentResult> {
  const t = conn.target;
  const v = await runAgent(conn, "version", {});
  if (v.sha256 !== bundle.sha256) {
    throw new SshError(
      "AGENT_OUTDATED",
      `${t.name} runs keel-agent ${printable(String(v.agentVersion))} (sha256 ${v.sha256 ?? "unknown"}), not the console's bundle (${bundle.sha256}). The console's key is restricted to the agent by a forced command, so it cannot update it: install the new agent on the host out of band (see docs/ssh.md).`,
      { host: t.name, step: "check-agent", details: { hostSha256: v.sha256, bundleSha256: bundle.sha256 } },
    );
  }
  return {
    host: t.name,
    action: "unchanged",
    sha256: bundle.sha256,
    previousSha256: v.sha256,
    nodeVersion: v.node,
  };
}

/** sha256 (hex) of a file on the host, or null when it does not exist. */
async function remoteSha256(conn: SshConnection, path: string): Promise<string | null> {
  const t = conn.target;
  const argv = privileged(t, ["sha256sum", "--", path]);
  const r = await conn.exec(argv, { step: "check-agent", maxOutputBytes: 64 * 1024 });
  if (r.exitCode !== 0) {
    const err = lossyText(r.stderr);
    if (/No such file/.test(err)) return null;
    throw sudoOrFailure(t, argv, r, "check-agent");
  }
  const hex = /^([0-9a-f]{64})\s/.exec(lossyText(r.stdout))?.[1];
  if (!hex)
    throw new SshError(
      "AGENT_UPLOAD_FAILED",
      `sha256sum on ${t.name} printed something unexpected for ${path}.`,
      { host: t.name, step: "check-agent" },
    );
  return hex;
}

/**
 * Write bytes to `path` on the host without a shell: `cp /dev/stdin` into a temporary name in the
 * same directory, check its digest, chmod, then `mv` (rename(2)) over the final name. A reader
 * sees the old file or the new one, never a partial one.
 */
export async function uploadFile(
  conn: SshConnection,
  path: string,
  bytes: Buffer,
  sha256: string,
  mode: string,
  step: SshStep,
): Promise<void> {
  const t = conn.target;
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = `${path}.keel-upload-${randomBytes(6).toString("hex")}`;
  await runPrivileged(conn, ["mkdir", "-p", "--", dir], step);
  try {
    await runPrivileged(conn, ["cp", "--", "/dev/stdin", tmp], step, { stdin: bytes, timeoutMs: 120_000 });
    const got = await remoteSha256(conn, tmp);
    if (got !== sha256) {
      throw new SshError(
        "AGENT_UPLOAD_FAILED",
        `Uploading ${path} to ${t.name} arrived corrupted (sha256 ${got ?? "missing"}, expected ${sha256}). Retry; if it persists check the host's disk.`,
        {
          host: t.name,
          step,
        },
      );
    }
    await runPrivileged(conn, ["chmod", mode, "--", tmp], step);
    await runPrivileged(conn, ["mv", "-f", "-T", "--", tmp, path], step);
  } catch (e) {
    await conn.exec(privileged(t, ["rm", "-f", "--", tmp]), { step }).catch(() => undefined);
    if (e instanceof SshError && e.code === "COMMAND_FAILED") {
      throw new SshError("AGENT_UPLOAD_FAILED", `Could not install ${path} on ${t.name}: ${e.message}`, {
        host: t.name,
        step,
        cause: e,
      });
    }
    throw e;
  }
}
