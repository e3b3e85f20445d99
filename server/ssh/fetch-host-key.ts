// Ask a host for its SSH host key without authenticating: the key exchange runs, the verifier
// records the key and refuses it, so no credential is ever offered. The enrollment service shows
// the fingerprint to an admin, who compares it with the host before accepting it.
import { Client } from "ssh2";
import { SshError } from "./errors";
import { fingerprintOfKey, keyTypeOfKey } from "./fingerprint";
import { printable, resolveLimits, validateTarget, type SshLimits } from "./target";
import { withRetry } from "./retry";

export interface HostKeyInfo {
  fingerprint: string;
  keyType: string;
}

export async function fetchHostKeyFingerprint(
  where: { name: string; address: string; port: number },
  opts: { limits?: Partial<SshLimits> } = {},
): Promise<HostKeyInfo> {
  // Reuse the target validation for name/address/port (user and key are not needed here).
  validateTarget({ ...where, user: "root", privateKey: "-", pinnedFingerprint: null });
  const limits = resolveLimits(opts.limits);
  return withRetry(() => fetchOnce(where, limits), {
    attempts: limits.connectAttempts,
    baseMs: limits.retryBaseMs,
    maxMs: limits.retryMaxMs,
    isRetryable: (e) =>
      e instanceof SshError && (e.code === "CONNECT_FAILED" || e.code === "CONNECT_TIMEOUT"),
  });
}

function fetchOnce(
  where: { name: string; address: string; port: number },
  limits: SshLimits,
): Promise<HostKeyInfo> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let info: HostKeyInfo | null = null;
    const done = () => {
      client.removeAllListeners();
      client.on("error", () => {});
      client.destroy();
      if (info) resolve(info);
      else
        reject(
          new SshError(
            lastError?.level === "client-timeout" ? "CONNECT_TIMEOUT" : "CONNECT_FAILED",
            `Could not read the host key of ${where.name} (${where.address}:${where.port}): ${printable(lastError?.message ?? "connection closed")}. Check that the host is up and sshd listens on port ${where.port}.`,
            { host: where.name, step: "verify-host-key", cause: lastError ?? undefined },
          ),
        );
    };
    let lastError: (Error & { level?: string }) | null = null;
    client.on("error", (e: Error & { level?: string }) => {
      lastError ??= e;
      done();
    });
    client.on("close", done);
    client.connect({
      host: where.address,
      port: where.port,
      username: "keel-fingerprint-probe",
      readyTimeout: limits.connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        info = { fingerprint: fingerprintOfKey(key), keyType: keyTypeOfKey(key) };
        return false;
      },
      authHandler: (_m, _p, next) => next(false as never),
    });
  });
}
