// One authenticated SSH connection to one host (ssh2 Client; connect.ts opens it): keepalive,
// and commands run as argument vectors on channels capped per connection, with timeouts and
// bounded output (channel-run.ts).
import { type Client, type ClientChannel } from "ssh2";
import { runOnChannel, earlyExit, type ChannelOwner } from "./channel-run";
import { SshError, type SshStep } from "./errors";
import { commandFailed, timeoutError, type ExecOptions, type ExecResult } from "./exec";
import { buildCommand } from "./quote";
import { backoffDelay, sleep } from "./retry";
import { Semaphore } from "./semaphore";
import { keepaliveBudgetMs, printable, type SshLimits, type SshTarget } from "./target";

export type SshEvent =
  | { type: "connect-attempt"; host: string; attempt: number }
  | { type: "retry"; host: string; attempt: number; delayMs: number; error: string }
  | { type: "host-key"; host: string; fingerprint: string; keyType: string; accepted: boolean }
  | { type: "authenticate"; host: string; user: string }
  | { type: "ready"; host: string }
  | { type: "channel-open-failed"; host: string; reason: string; openChannels: number }
  | { type: "closed"; host: string; error?: string };

const CHANNEL_OPEN_RETRIES = 12;
const REMOTE_TIMEOUT_EXIT = 124;
/** The host's own timeout fires first; ours is the backstop for a host that stopped answering. */
const REMOTE_TIMEOUT_GRACE_MS = 3_000;

function remoteTimeoutPrefix(timeoutMs: number): string[] {
  return ["timeout", "-k", "5s", `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`];
}

export class SshConnection {
  readonly target: SshTarget;
  readonly fingerprint: string;
  readonly limits: SshLimits;
  private readonly client: Client;
  private readonly channels: Semaphore;
  private readonly live = new Set<(e: SshError) => void>();
  private readonly channelOwner: ChannelOwner;
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
  constructor(
    client: Client,
    target: SshTarget,
    fingerprint: string,
    limits: SshLimits,
    onEvent?: (e: SshEvent) => void,
  ) {
    this.client = client;
    this.target = target;
    this.fingerprint = fingerprint;
    this.limits = limits;
    this.onEvent = onEvent;
    this.channels = new Semaphore(limits.maxChannelsPerConnection);
    this.channelOwner = { target, limits, live: this.live, closeError: () => this.closeError };
    this.closedPromise = new Promise((resolve) => {
      client.on("error", (err: Error & { level?: string }) => {
        this.closeError ??= lostError(target, err, limits);
      });
      client.on("close", () => {
        this.isClosedFlag = true;
        const e =
          this.closeError ??
          new SshError("CONNECTION_LOST", `The SSH connection to ${target.name} closed.`, {
            host: target.name,
            step: "exec",
          });
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
      this.closeError ??= new SshError(
        "CONNECTION_LOST",
        `The connection to ${this.target.name} was closed by the console.`,
        {
          host: this.target.name,
          step: "exec",
        },
      );
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
        if (
          e instanceof SshError &&
          e.code === "CHANNEL_OPEN_FAILED" &&
          attempt < CHANNEL_OPEN_RETRIES &&
          !this.isClosedFlag
        ) {
          // sshd refuses sessions past its MaxSessions: stay below what worked and wait for a free slot.
          const reason = String(e.details?.reason ?? "");
          // sshd frees a session slot only after its own close handling, so a slot we just saw
          // close may still count there: back off a little (jittered) before asking again.
          this.channels.setLimit(Math.max(1, this.channels.inUse));
          this.onEvent?.({
            type: "channel-open-failed",
            host: this.target.name,
            reason,
            openChannels: this.channels.inUse,
          });
          await sleep(backoffDelay(attempt, { baseMs: 50, maxMs: 1_000 }), opts.signal);
          continue;
        }
        throw e;
      }
      const r = await runOnChannel(
        this.channelOwner,
        opened,
        argv,
        { ...opts, timeoutMs },
        step,
        remote ? timeoutMs + REMOTE_TIMEOUT_GRACE_MS : timeoutMs,
      );
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
      const onDead = (e: SshError) =>
        finish(
          null,
          new SshError(e.code, e.message, { host: this.target.name, step: "open-channel", cause: e }),
        );
      this.live.add(onDead);
      // A host that does not answer is treated like one without the socket: the caller falls back.
      const timer = setTimeout(() => finish(null), this.limits.channelOpenTimeoutMs);
      try {
        this.client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => finish(err ? null : ch));
      } catch (e) {
        finish(
          null,
          new SshError(
            "CONNECTION_LOST",
            `The SSH connection to ${this.target.name} is not usable: ${(e as Error).message}`,
            { host: this.target.name, step: "open-channel", cause: e },
          ),
        );
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
    return new SshError(
      e?.code ?? "CONNECTION_LOST",
      e?.message ?? `The SSH connection to ${this.target.name} is closed.`,
      {
        host: this.target.name,
        step,
        cause: e ?? undefined,
      },
    );
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
          ch.once("exit", (code: number | null, signal?: string) =>
            earlyExit.set(ch, { code, signal: signal ?? null }),
          );
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
        reject(
          new SshError(
            "CONNECTION_LOST",
            `The SSH connection to ${host} is not usable: ${(e as Error).message}`,
            { host, step: "open-channel", cause: e },
          ),
        );
      }
    });
  }
}

function lostError(target: SshTarget, err: Error & { level?: string }, limits: SshLimits): SshError {
  if (err.message === "Keepalive timeout") {
    return new SshError(
      "KEEPALIVE_TIMEOUT",
      `${target.name} stopped answering: ${limits.keepaliveCountMax} keepalives went unanswered (${keepaliveBudgetMs(limits) / 1000} s). The network to the host is down or the host is frozen.`,
      { host: target.name, step: "exec", cause: err },
    );
  }
  return new SshError(
    "CONNECTION_LOST",
    `The SSH connection to ${target.name} broke: ${printable(err.message)}.`,
    {
      host: target.name,
      step: "exec",
      cause: err,
    },
  );
}
