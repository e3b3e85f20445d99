// Connecting to a host: its host key checked against the pin (or the fingerprint an admin
// accepted while enrolling) before authenticating, only the console's key offered, and connect
// attempts retried with jitter when the host refuses or does not answer.
import { Client } from "ssh2";
import { clientSocket, coalesceWrites } from "./coalesce-writes";
import { SshConnection, type SshEvent } from "./connection";
import { SshError, type SshErrorCode } from "./errors";
import { fingerprintOfKey, keyTypeOfKey, sameFingerprint } from "./fingerprint";
import { withRetry } from "./retry";
import { printable, resolveLimits, validateTarget, type SshLimits, type SshTarget } from "./target";

export interface ConnectOptions {
  /** While enrolling: the fingerprint the admin accepted; connects only if the host presents exactly it. */
  acceptFingerprint?: string;
  limits?: Partial<SshLimits>;
  onEvent?: (e: SshEvent) => void;
  signal?: AbortSignal;
}

/** Connect to a target, verifying its host key against the pin before authenticating. */
export async function connect(target: SshTarget, opts: ConnectOptions = {}): Promise<SshConnection> {
  validateTarget(target);
  const limits = resolveLimits(opts.limits);
  return withRetry((attempt) => connectOnce(target, limits, opts, attempt), {
    attempts: limits.connectAttempts,
    baseMs: limits.retryBaseMs,
    maxMs: limits.retryMaxMs,
    signal: opts.signal,
    isRetryable: (e) =>
      e instanceof SshError && (e.code === "CONNECT_FAILED" || e.code === "CONNECT_TIMEOUT"),
    onRetry: (e, attempt, delayMs) =>
      opts.onEvent?.({ type: "retry", host: target.name, attempt, delayMs, error: (e as Error).message }),
  });
}

function connectOnce(
  target: SshTarget,
  limits: SshLimits,
  opts: ConnectOptions,
  attempt: number,
): Promise<SshConnection> {
  const host = target.name;
  const emit = opts.onEvent;
  emit?.({ type: "connect-attempt", host, attempt });
  return new Promise<SshConnection>((resolve, reject) => {
    const client = new Client();
    let hostKeyError: SshError | null = null;
    let presented: string | null = null;
    let authAttempted = false;
    let settled = false;
    const fail = (e: SshError) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners("ready");
      client.on("error", () => {});
      client.destroy();
      reject(e);
    };
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      client.removeListener("error", onError);
      client.removeListener("close", onClose);
      emit?.({ type: "ready", host });
      resolve(new SshConnection(client, target, presented!, limits, emit));
    });
    const onError = (err: Error & { level?: string; code?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      fail(classifyConnectError(target, err, authAttempted, limits));
    };
    const onClose = () =>
      fail(
        hostKeyError ??
          new SshError(
            "CONNECT_FAILED",
            `${host} (${target.address}:${target.port}) closed the connection during the SSH handshake. sshd may be overloaded (MaxStartups); retry later.`,
            {
              host,
              step: "connect",
            },
          ),
      );
    client.on("error", onError);
    client.on("close", onClose);
    try {
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        readyTimeout: limits.connectTimeoutMs,
        keepaliveInterval: limits.keepaliveIntervalMs,
        keepaliveCountMax: limits.keepaliveCountMax,
        // ssh2 hands us the raw key blob (no hostHash): we compute OpenSSH's SHA256 fingerprint.
        hostVerifier: (key: Buffer) => {
          presented = fingerprintOfKey(key);
          const keyType = keyTypeOfKey(key);
          hostKeyError = checkHostKey(target, presented, opts.acceptFingerprint);
          emit?.({
            type: "host-key",
            host,
            fingerprint: presented,
            keyType,
            accepted: hostKeyError === null,
          });
          return hostKeyError === null;
        },
        // Only our key, only once: no password, keyboard-interactive or agent fallbacks.
        authHandler: (_methodsLeft, _partial, next) => {
          if (authAttempted || hostKeyError) return next(false as never);
          authAttempted = true;
          emit?.({ type: "authenticate", host, user: target.user });
          next({ type: "publickey", username: target.user, key: target.privateKey });
        },
      });
      const sock = clientSocket(client);
      if (sock) coalesceWrites(sock);
    } catch (e) {
      // e.g. a private key ssh2 cannot parse
      fail(
        new SshError(
          "AUTH_FAILED",
          `The console's SSH key for ${host} could not be used: ${(e as Error).message}`,
          { host, step: "authenticate", cause: e },
        ),
      );
    }
  });
}

function checkHostKey(target: SshTarget, presented: string, accept: string | undefined): SshError | null {
  const host = target.name;
  if (target.pinnedFingerprint !== null) {
    if (sameFingerprint(presented, target.pinnedFingerprint)) return null;
    return new SshError(
      "HOST_KEY_CHANGED",
      `The host key of ${host} changed: pinned ${target.pinnedFingerprint}, presented ${presented}. Nothing was sent. If the host was reinstalled or re-keyed, an admin must verify the new fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and re-pin it; otherwise treat this as a possible attack.`,
      { host, step: "verify-host-key", details: { pinned: target.pinnedFingerprint, presented } },
    );
  }
  if (accept !== undefined && sameFingerprint(presented, accept)) return null;
  return new SshError(
    "HOST_KEY_UNKNOWN",
    accept === undefined
      ? `${host} presented host key ${presented}, which is not pinned yet. Nothing was sent. Compare it with the fingerprint shown on the host and accept it to enroll the host.`
      : `${host} presented host key ${presented}, not the accepted ${accept}. Nothing was sent. Fetch the fingerprint again and compare it with the host.`,
    { host, step: "verify-host-key", details: { presented, accepted: accept ?? null } },
  );
}

function classifyConnectError(
  target: SshTarget,
  err: Error & { level?: string; code?: string },
  authAttempted: boolean,
  limits: SshLimits,
): SshError {
  const host = target.name;
  const where = `${target.address}:${target.port}`;
  const code: SshErrorCode =
    err.level === "client-timeout"
      ? "CONNECT_TIMEOUT"
      : err.level === "client-authentication"
        ? "AUTH_FAILED"
        : "CONNECT_FAILED";
  if (code === "AUTH_FAILED" || (authAttempted && /authentication/i.test(err.message))) {
    return new SshError(
      "AUTH_FAILED",
      `${host} refused the console's SSH key for user ${target.user}. Check that the console's public key is in ~${target.user}/.ssh/authorized_keys on the host.`,
      { host, step: "authenticate", cause: err },
    );
  }
  if (code === "CONNECT_TIMEOUT") {
    return new SshError(
      "CONNECT_TIMEOUT",
      `${host} (${where}) did not complete the SSH handshake within ${limits.connectTimeoutMs / 1000} s. Check that the host is up and reachable.`,
      { host, step: "connect", cause: err },
    );
  }
  return new SshError(
    "CONNECT_FAILED",
    `Could not connect to ${host} (${where}): ${printable(err.message)}. Check that the host is up and sshd listens on port ${target.port}.`,
    {
      host,
      step: "connect",
      cause: err,
    },
  );
}
