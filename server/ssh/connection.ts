// One authenticated SSH connection to one host (ssh2 Client): host key checked against the pin
// before authentication, keepalive, connect retries with jitter, and commands run as argument
// vectors on channels capped per connection, with timeouts and bounded output.
import { Client, type ClientChannel } from "ssh2";
import { pipeline } from "node:stream/promises";
import { type Readable } from "node:stream";
import { SshError, type SshErrorCode, type SshStep } from "./errors";
import { fingerprintOfKey, keyTypeOfKey, sameFingerprint } from "./fingerprint";
import { buildCommand } from "./quote";
import { backoffDelay, sleep, withRetry } from "./retry";
import { Semaphore } from "./semaphore";
import { keepaliveBudgetMs, printable, resolveLimits, validateTarget, type SshLimits, type SshTarget } from "./target";

export type SshEvent =
  | { type: "connect-attempt"; host: string; attempt: number }
  | { type: "retry"; host: string; attempt: number; delayMs: number; error: string }
  | { type: "host-key"; host: string; fingerprint: string; keyType: string; accepted: boolean }
  | { type: "authenticate"; host: string; user: string }
  | { type: "ready"; host: string }
  | { type: "channel-open-failed"; host: string; reason: string; openChannels: number }
  | { type: "closed"; host: string; error?: string };

export interface ConnectOptions {
  /** While enrolling: the fingerprint the admin accepted; connects only if the host presents exactly it. */
  acceptFingerprint?: string;
  limits?: Partial<SshLimits>;
  onEvent?: (e: SshEvent) => void;
  signal?: AbortSignal;
}

export interface ExecOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** Bytes for stdin, or a stream piped in with backpressure; stdin is closed at its end. */
  stdin?: Buffer | string | Readable;
  /** Step name used in errors (default "exec"). */
  step?: SshStep;
  /**
   * Also enforce the timeout on the host with coreutils `timeout` (default: on, except for a
   * forced-command target). sshd does not deliver signal requests to root sessions, and closing
   * the channel does not stop a process that neither reads nor writes, so only the host can
   * reliably end a command that hangs — even if the connection is gone.
   */
  remoteTimeout?: boolean;
  /** Receive stdout as it arrives instead of buffering it (still counted against maxOutputBytes). */
  onStdout?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number | null;
  /** Set when the remote process died of a signal. */
  exitSignal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
}

/** Decode output for people: invalid UTF-8 becomes U+FFFD instead of failing. */
export function lossyText(b: Buffer): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(b);
}

const CHANNEL_OPEN_RETRIES = 12;
const REMOTE_TIMEOUT_EXIT = 124;
/** The host's own timeout fires first; ours is the backstop for a host that stopped answering. */
const REMOTE_TIMEOUT_GRACE_MS = 3_000;

function remoteTimeoutPrefix(timeoutMs: number): string[] {
  return ["timeout", "-k", "5s", `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`];
}

function timeoutError(target: SshTarget, argv: readonly string[], timeoutMs: number, step: SshStep): SshError {
  return new SshError(
    "COMMAND_TIMEOUT",
    `${describe(argv)} on ${target.name} did not finish within ${Math.round(timeoutMs / 1000)} s (step ${step}); it was stopped. Check whether the host is overloaded or the command hangs.`,
    { host: target.name, step, details: { timeoutMs } },
  );
}

export class SshConnection {
  readonly target: SshTarget;
  readonly fingerprint: string;
  readonly limits: SshLimits;
  private readonly client: Client;
  private readonly channels: Semaphore;
  private readonly live = new Set<(e: SshError) => void>();
  private closeError: SshError | null = null;
  private isClosedFlag = false;
  private readonly closedPromise: Promise<void>;
  private readonly onEvent: ((e: SshEvent) => void) | undefined;
  /** Most channels ever open at once (for tests and metrics). */
  get channelHighWater(): number {
    return this.channels.highWater;
  }
  get channelLimit(): number {
    return this.channels.limit;
  }
  get openChannels(): number {
    return this.channels.inUse;
  }
  get isClosed(): boolean {
    return this.isClosedFlag;
  }
  /** Closed, or on its way there (close() was called or the transport failed): take no new work. */
  get isClosing(): boolean {
    return this.isClosedFlag || this.closeError !== null;
  }

  /** @internal use connect() */
  constructor(client: Client, target: SshTarget, fingerprint: string, limits: SshLimits, onEvent?: (e: SshEvent) => void) {
    this.client = client;
    this.target = target;
    this.fingerprint = fingerprint;
    this.limits = limits;
    this.onEvent = onEvent;
    this.channels = new Semaphore(limits.maxChannelsPerConnection);
    this.closedPromise = new Promise((resolve) => {
      client.on("error", (err: Error & { level?: string }) => {
        this.closeError ??= lostError(target, err, limits);
      });
      client.on("close", () => {
        this.isClosedFlag = true;
        const e =
          this.closeError ??
          new SshError("CONNECTION_LOST", `The SSH connection to ${target.name} closed.`, { host: target.name, step: "exec" });
        this.closeError = e;
        for (const fail of [...this.live]) fail(e);
        onEvent?.({ type: "closed", host: target.name, error: e.message });
        resolve();
      });
    });
  }

  /** Resolves when the connection is gone (closed by us, the host, or keepalive). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  close(): Promise<void> {
    if (!this.isClosedFlag) {
      this.closeError ??= new SshError("CONNECTION_LOST", `The connection to ${this.target.name} was closed by the console.`, {
        host: this.target.name,
        step: "exec",
      });
      this.client.end();
      // end() waits for the peer; a dead peer never answers, so force it after a moment.
      const t = setTimeout(() => this.client.destroy(), 1_000);
      t.unref();
    }
    return this.closedPromise;
  }

  /** Run argv; resolves with the exit status and output whatever the status. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.limits.commandTimeoutMs;
    const remote = opts.remoteTimeout ?? !this.target.forcedCommand;
    const cmd = buildCommand(remote ? [...remoteTimeoutPrefix(timeoutMs), ...argv] : argv);
    const step = opts.step ?? "exec";
    for (let attempt = 1; ; attempt++) {
      await this.acquireChannel(step, opts.signal);
      let opened: ClientChannel;
      try {
        opened = await this.openExec(cmd, step);
      } catch (e) {
        // openExec released the slot already.
        if (e instanceof SshError && e.code === "CHANNEL_OPEN_FAILED" && attempt < CHANNEL_OPEN_RETRIES && !this.isClosedFlag) {
          // sshd refuses sessions past its MaxSessions: stay below what worked and wait for a free slot.
          const reason = String(e.details?.reason ?? "");
          // sshd frees a session slot only after its own close handling, so a slot we just saw
          // close may still count there: back off a little (jittered) before asking again.
          this.channels.setLimit(Math.max(1, this.channels.inUse));
          this.onEvent?.({ type: "channel-open-failed", host: this.target.name, reason, openChannels: this.channels.inUse });
          await sleep(backoffDelay(attempt, { baseMs: 50, maxMs: 1_000 }), opts.signal);
          continue;
        }
        throw e;
      }
      const r = await this.runOnChannel(opened, argv, { ...opts, timeoutMs }, step, remote ? timeoutMs + REMOTE_TIMEOUT_GRACE_MS : timeoutMs);
      if (remote && r.exitCode === REMOTE_TIMEOUT_EXIT && r.durationMs >= timeoutMs - 1_000) {
        throw timeoutError(this.target, argv, timeoutMs, step);
      }
      return r;
    }
  }

  /**
   * A byte stream to a Unix socket on the host (OpenSSH's direct-streamlocal channel; nothing is
   * started there). Null when the host will not open it (no such socket, nobody listening, or
   * forwarding disabled for this key). Holds one channel slot until the channel closes.
   */
  async openStreamLocal(socketPath: string, step: SshStep): Promise<ClientChannel | null> {
    await this.acquireChannel(step);
    return new Promise<ClientChannel | null>((resolve, reject) => {
      let settled = false;
      const finish = (ch: ClientChannel | null, e?: SshError) => {
        if (settled) return ch?.close();
        settled = true;
        clearTimeout(timer);
        this.live.delete(onDead);
        if (!ch) this.channels.release();
        else ch.once("close", () => this.channels.release());
        if (e) reject(e);
        else resolve(ch);
      };
      const onDead = (e: SshError) => finish(null, new SshError(e.code, e.message, { host: this.target.name, step: "open-channel", cause: e }));
      this.live.add(onDead);
      // A host that does not answer is treated like one without the socket: the caller falls back.
      const timer = setTimeout(() => finish(null), this.limits.channelOpenTimeoutMs);
      try {
        this.client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => finish(err ? null : ch));
      } catch (e) {
        finish(null, new SshError("CONNECTION_LOST", `The SSH connection to ${this.target.name} is not usable: ${(e as Error).message}`, { host: this.target.name, step: "open-channel", cause: e }));
      }
    });
  }

  /** Like exec, but a non-zero exit (or a signal) is an SshError("COMMAND_FAILED"). */
  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(argv, opts);
    if (r.exitCode !== 0) throw commandFailed(this.target, argv, r, opts.step ?? "exec");
    return r;
  }

  private async acquireChannel(step: SshStep, signal?: AbortSignal): Promise<void> {
    if (this.isClosedFlag) throw this.deadError(step);
    await this.channels.acquire(signal);
    if (this.isClosedFlag) {
      this.channels.release();
      throw this.deadError(step);
    }
  }

  private deadError(step: SshStep): SshError {
    const e = this.closeError;
    return new SshError(e?.code ?? "CONNECTION_LOST", e?.message ?? `The SSH connection to ${this.target.name} is closed.`, {
      host: this.target.name,
      step,
      cause: e ?? undefined,
    });
  }

  /** Open a session channel and send the exec request; holds one channel slot until the channel closes. */
  private openExec(cmd: string, step: SshStep): Promise<ClientChannel> {
    const host = this.target.name;
    return new Promise<ClientChannel>((resolve, reject) => {
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          this.channels.release();
        }
      };
      let settled = false;
      const onDead = (e: SshError) => {
        this.live.delete(onDead);
        release();
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new SshError(e.code, e.message, { host, step: "open-channel", cause: e }));
        }
      };
      this.live.add(onDead);
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // The slot stays taken until ssh2 answers or the connection dies: the server may still open it.
        reject(
          new SshError(
            "CHANNEL_OPEN_TIMEOUT",
            `${host} did not open a session channel within ${this.limits.channelOpenTimeoutMs / 1000} s (step ${step}). The network or sshd may be stalled; check the host and retry.`,
            { host, step: "open-channel" },
          ),
        );
      }, this.limits.channelOpenTimeoutMs);
      try {
        this.client.exec(cmd, (err, ch) => {
          clearTimeout(timer);
          if (err) {
            this.live.delete(onDead);
            release();
            if (settled) return;
            settled = true;
            const reason = (err as Error & { reason?: unknown }).reason;
            reject(
              new SshError(
                "CHANNEL_OPEN_FAILED",
                `${host} refused to open a session channel (${printable(err.message)}).`,
                { host, step: "open-channel", cause: err, details: { reason: reason ?? err.message } },
              ),
            );
            return;
          }
          ch.once("close", () => {
            this.live.delete(onDead);
            release();
          });
          // A fast command's exit status can arrive in the same packet batch as the open
          // confirmation, before runOnChannel listens: record it now or it is lost (the command
          // would then look as if it ended without a status). Output is not lost: it waits in
          // the channel's stream buffer until read.
          ch.once("exit", (code: number | null, signal?: string) => earlyExit.set(ch, { code, signal: signal ?? null }));
          if (settled) {
            ch.close();
            return;
          }
          settled = true;
          resolve(ch);
        });
      } catch (e) {
        // ssh2 throws synchronously when the connection is no longer usable.
        clearTimeout(timer);
        this.live.delete(onDead);
        release();
        settled = true;
        reject(new SshError("CONNECTION_LOST", `The SSH connection to ${host} is not usable: ${(e as Error).message}`, { host, step: "open-channel", cause: e }));
      }
    });
  }

  private runOnChannel(ch: ClientChannel, argv: readonly string[], opts: ExecOptions, step: SshStep, backstopMs: number): Promise<ExecResult> {
    const host = this.target.name;
    const started = Date.now();
    const maxOut = opts.maxOutputBytes ?? this.limits.maxOutputBytes;
    const timeoutMs = opts.timeoutMs ?? this.limits.commandTimeoutMs;
    return new Promise<ExecResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let done = false;
      let stdinError: unknown = null;

      const finish = (e: SshError | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.live.delete(onDead);
        opts.signal?.removeEventListener("abort", onAbort);
        if (e) {
          stop();
          reject(e);
          return;
        }
        resolve({
          exitCode,
          exitSignal,
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          durationMs: Date.now() - started,
        });
      };
      // Ask the remote process to end, then close the channel; sshd closes the pipes, the
      // process gets EOF/SIGPIPE. Data that still arrives is dropped (memory stays bounded).
      const stop = () => {
        ch.removeAllListeners("data");
        ch.stderr.removeAllListeners("data");
        ch.on("data", () => {});
        ch.stderr.on("data", () => {});
        sendSignal(ch, "TERM");
        const k = setTimeout(() => {
          sendSignal(ch, "KILL");
          ch.close();
        }, 1_000);
        k.unref();
        ch.once("close", () => clearTimeout(k));
      };
      const onDead = (e: SshError) =>
        finish(new SshError(e.code, `${e.message} (while running ${describe(argv)})`, { host, step, cause: e }));
      this.live.add(onDead);
      const onAbort = () => finish(new SshError("ABORTED", `Stopped ${describe(argv)} on ${host}: the operation was cancelled.`, { host, step }));
      opts.signal?.addEventListener("abort", onAbort, { once: true });

      const timer = setTimeout(() => finish(timeoutError(this.target, argv, timeoutMs, step)), backstopMs);

      const take = (bucket: Buffer[]) => (chunk: Buffer) => {
        if (done) return;
        outBytes += chunk.length;
        if (outBytes > maxOut) {
          finish(
            new SshError(
              "OUTPUT_TOO_LARGE",
              `${describe(argv)} on ${host} wrote more than ${formatBytes(maxOut)} of output (step ${step}); it was stopped to keep the console's memory bounded.`,
              { host, step, details: { limitBytes: maxOut } },
            ),
          );
          return;
        }
        if (bucket === out && opts.onStdout) {
          try {
            opts.onStdout(chunk);
          } catch (e) {
            finish(e instanceof SshError ? e : new SshError("AGENT_PROTOCOL", `Reading the output of ${describe(argv)} on ${host} failed: ${(e as Error).message}`, { host, step, cause: e }));
          }
          return;
        }
        bucket.push(chunk);
      };
      ch.on("data", take(out));
      ch.stderr.on("data", take(err));
      const early = earlyExit.get(ch);
      if (early) {
        exitCode = typeof early.code === "number" ? early.code : null;
        exitSignal = early.signal;
      }
      ch.on("exit", (code: number | null, signal?: string) => {
        exitCode = typeof code === "number" ? code : null;
        exitSignal = signal ?? null;
      });
      ch.on("close", () => {
        if (stdinError && exitCode === null && exitSignal === null) {
          finish(new SshError("CONNECTION_LOST", `Sending input to ${describe(argv)} on ${host} failed: ${(stdinError as Error).message}`, { host, step, cause: stdinError }));
          return;
        }
        if (exitCode === null && exitSignal === null && !done) {
          // Closed without an exit status: the connection went away under us, or sshd dropped the session.
          const e = this.closeError;
          if (e) return finish(new SshError(e.code, `${e.message} (while running ${describe(argv)})`, { host, step, cause: e }));
        }
        finish(null);
      });

      const stdin = opts.stdin;
      if (stdin === undefined) ch.end();
      else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) ch.end(stdin);
      else {
        // pipeline() honours write()'s return value and 'drain' and the SSH window: the file is
        // read only as fast as the host consumes it, so memory does not grow with the stream.
        pipeline(stdin, ch).catch((e: unknown) => {
          stdinError = e;
          if (!done && !ch.destroyed) ch.close();
        });
      }
    });
  }
}

/**
 * Send a signal request (OpenSSH ≥ 7.9 delivers it to the session's process). ssh2's
 * Channel.signal() silently does nothing once our side of the channel has ended (stdin closed),
 * which is the normal state of a running command, so talk to the protocol layer directly.
 */
function sendSignal(ch: ClientChannel, name: "TERM" | "KILL"): void {
  const c = ch as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if (c.outgoing && (c.outgoing.state === "open" || c.outgoing.state === "eof")) c._client?._protocol?.signal(c.outgoing.id, name);
  } catch {
    /* connection already gone */
  }
}

/** Exit statuses that arrived before runOnChannel attached its listeners (see openExec). */
const earlyExit = new WeakMap<ClientChannel, { code: number | null; signal: string | null }>();

export function describe(argv: readonly string[]): string {
  const shown = argv.slice(0, 3).map((a) => printable(a, 40)).join(" ");
  return `"${shown}${argv.length > 3 ? " …" : ""}"`;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

export function commandFailed(target: SshTarget, argv: readonly string[], r: ExecResult, step: SshStep): SshError {
  const tail = printable(lossyText(r.stderr.subarray(-400)).trim(), 300);
  const how = r.exitSignal ? `was killed by signal ${r.exitSignal}` : `exited with status ${r.exitCode}`;
  return new SshError("COMMAND_FAILED", `${describe(argv)} on ${target.name} ${how}${tail ? `: ${tail}` : ""}.`, {
    host: target.name,
    step,
    details: { exitCode: r.exitCode, exitSignal: r.exitSignal, stderr: tail },
  });
}

function lostError(target: SshTarget, err: Error & { level?: string }, limits: SshLimits): SshError {
  if (err.message === "Keepalive timeout") {
    return new SshError(
      "KEEPALIVE_TIMEOUT",
      `${target.name} stopped answering: ${limits.keepaliveCountMax} keepalives went unanswered (${keepaliveBudgetMs(limits) / 1000} s). The network to the host is down or the host is frozen.`,
      { host: target.name, step: "exec", cause: err },
    );
  }
  return new SshError("CONNECTION_LOST", `The SSH connection to ${target.name} broke: ${printable(err.message)}.`, {
    host: target.name,
    step: "exec",
    cause: err,
  });
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
    isRetryable: (e) => e instanceof SshError && (e.code === "CONNECT_FAILED" || e.code === "CONNECT_TIMEOUT"),
    onRetry: (e, attempt, delayMs) =>
      opts.onEvent?.({ type: "retry", host: target.name, attempt, delayMs, error: (e as Error).message }),
  });
}

function connectOnce(target: SshTarget, limits: SshLimits, opts: ConnectOptions, attempt: number): Promise<SshConnection> {
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
          new SshError("CONNECT_FAILED", `${host} (${target.address}:${target.port}) closed the connection during the SSH handshake. sshd may be overloaded (MaxStartups); retry later.`, {
            host,
            step: "connect",
          }),
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
          emit?.({ type: "host-key", host, fingerprint: presented, keyType, accepted: hostKeyError === null });
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
    } catch (e) {
      // e.g. a private key ssh2 cannot parse
      fail(new SshError("AUTH_FAILED", `The console's SSH key for ${host} could not be used: ${(e as Error).message}`, { host, step: "authenticate", cause: e }));
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

function classifyConnectError(target: SshTarget, err: Error & { level?: string; code?: string }, authAttempted: boolean, limits: SshLimits): SshError {
  const host = target.name;
  const where = `${target.address}:${target.port}`;
  const code: SshErrorCode = err.level === "client-timeout" ? "CONNECT_TIMEOUT" : err.level === "client-authentication" ? "AUTH_FAILED" : "CONNECT_FAILED";
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
  return new SshError("CONNECT_FAILED", `Could not connect to ${host} (${where}): ${printable(err.message)}. Check that the host is up and sshd listens on port ${target.port}.`, {
    host,
    step: "connect",
    cause: err,
  });
}
