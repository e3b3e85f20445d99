// What the SSH layer needs to reach one host, the tunable limits, and their validation. Callers
// (inventory, rollouts) build targets from the database; nothing here reads it.
import { SshError } from "./errors";
import { isFingerprint } from "./fingerprint";

export interface SshTarget {
  /** The host's name in the inventory; only used in messages and results. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** The console's private key (OpenSSH or PEM format). */
  privateKey: string | Buffer;
  /** The host key fingerprint pinned at enrollment (`SHA256:…`), or null before enrollment. */
  pinnedFingerprint: string | null;
  /** Run the agent through `sudo -n` (for a non-root login). */
  sudo?: boolean;
  /** Where the agent lives on the host; default DEFAULT_AGENT_PATH. */
  agentPath?: string;
  /** The node binary on the host; default "node" (looked up in the login's PATH). */
  nodePath?: string;
  /**
   * The console's key is restricted by a forced command (docs/ssh.md): only the agent's `serve`
   * may run, so ensureAgent can check the agent's digest but not upload a new one.
   */
  forcedCommand?: boolean;
}

export const DEFAULT_AGENT_PATH = "/usr/local/lib/keel/keel-agent.mjs";

export interface SshLimits {
  /** TCP connect + SSH handshake + authentication, per attempt. */
  connectTimeoutMs: number;
  /** Connect attempts on transient errors (refused, reset, dropped by MaxStartups, timeout). */
  connectAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A keepalive every interval; after countMax unanswered ones the connection is dead. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  channelOpenTimeoutMs: number;
  /** Default per-command limit (wall time after the channel is open). */
  commandTimeoutMs: number;
  /** Channels open at once on one connection; never above OpenSSH's MaxSessions default of 10. */
  maxChannelsPerConnection: number;
  /** stdout + stderr kept per command; more is an error and the command is stopped. */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: SshLimits = {
  connectTimeoutMs: 15_000,
  connectAttempts: 4,
  retryBaseMs: 250,
  retryMaxMs: 4_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  channelOpenTimeoutMs: 15_000,
  commandTimeoutMs: 120_000,
  maxChannelsPerConnection: 10,
  maxOutputBytes: 16 * 1024 * 1024,
};

export const OPENSSH_MAX_SESSIONS = 10;

/** How long a dead peer can go unnoticed on an authenticated connection. */
export function keepaliveBudgetMs(l: Pick<SshLimits, "keepaliveIntervalMs" | "keepaliveCountMax">): number {
  return l.keepaliveIntervalMs * (l.keepaliveCountMax + 1);
}

export function resolveLimits(partial?: Partial<SshLimits>): SshLimits {
  const l = { ...DEFAULT_LIMITS, ...partial };
  l.maxChannelsPerConnection = Math.max(
    1,
    Math.min(OPENSSH_MAX_SESSIONS, Math.floor(l.maxChannelsPerConnection)),
  );
  l.connectAttempts = Math.max(1, Math.floor(l.connectAttempts));
  return l;
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_RE = /^[0-9A-Fa-f:.]{2,45}$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const PATH_RE = /^\/(?:[A-Za-z0-9._+-]+\/)*[A-Za-z0-9._+-]+$/;

export function isSafeAbsolutePath(p: string): boolean {
  return PATH_RE.test(p) && !p.split("/").some((c) => c === "." || c === ".." || c.startsWith("-"));
}

/** Reject targets that could only be mistakes or attacks, with a message naming the field. */
export function validateTarget(t: SshTarget): void {
  const bad = (field: string, why: string) =>
    new SshError(
      "INVALID_TARGET",
      `Host "${printable(t.name)}": ${field} ${why}. Fix the host's record and try again.`,
      {
        host: t.name,
        step: "validate",
        details: { field },
      },
    );
  if (typeof t.name !== "string" || t.name.length === 0 || t.name.length > 253)
    throw bad("name", "must be 1–253 characters");
  if (
    typeof t.address !== "string" ||
    !(
      IPV4_RE.test(t.address) ||
      HOSTNAME_RE.test(t.address) ||
      (t.address.includes(":") && IPV6_RE.test(t.address))
    )
  )
    throw bad("address", `"${printable(String(t.address))}" is not an IP address or host name`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)
    throw bad("port", "must be an integer 1–65535");
  if (typeof t.user !== "string" || !USER_RE.test(t.user))
    throw bad("user", `"${printable(String(t.user))}" is not a valid login name`);
  if (t.pinnedFingerprint !== null && !isFingerprint(t.pinnedFingerprint))
    throw bad("pinned fingerprint", "is not in OpenSSH SHA256:… format");
  if (t.agentPath !== undefined && !isSafeAbsolutePath(t.agentPath))
    throw bad("agent path", "must be a plain absolute path");
  if (t.nodePath !== undefined && t.nodePath !== "node" && !isSafeAbsolutePath(t.nodePath))
    throw bad("node path", 'must be "node" or a plain absolute path');
  if (!t.privateKey || t.privateKey.length === 0) throw bad("private key", "is missing");
}

/** Make an untrusted string safe to put in a message (no control characters, bounded). */
export function printable(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return clean.length > max ? clean.slice(0, max) + "…" : clean;
}
