// One command on an open exec channel: stdin piped with backpressure, output bounded, the
// timeout and cancellation enforced, and the exit status (or why there is none) reported.
import { type ClientChannel } from "ssh2";
import { pipeline } from "node:stream/promises";
import { SshError, type SshStep } from "./errors";
import { describe, formatBytes, timeoutError, type ExecOptions, type ExecResult } from "./exec";
import { type SshLimits, type SshTarget } from "./target";

/** What a channel needs from the connection it belongs to. */
export interface ChannelOwner {
  readonly target: SshTarget;
  readonly limits: SshLimits;
  /** Called with the connection's error when it dies while the command runs. */
  readonly live: Set<(e: SshError) => void>;
  closeError(): SshError | null;
}

export function runOnChannel(
  conn: ChannelOwner,
  ch: ClientChannel,
  argv: readonly string[],
  opts: ExecOptions,
  step: SshStep,
  backstopMs: number,
): Promise<ExecResult> {
  const host = conn.target.name;
  const started = Date.now();
  const maxOut = opts.maxOutputBytes ?? conn.limits.maxOutputBytes;
  const timeoutMs = opts.timeoutMs ?? conn.limits.commandTimeoutMs;
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
      conn.live.delete(onDead);
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
      finish(
        new SshError(e.code, `${e.message} (while running ${describe(argv)})`, { host, step, cause: e }),
      );
    conn.live.add(onDead);
    const onAbort = () =>
      finish(
        new SshError("ABORTED", `Stopped ${describe(argv)} on ${host}: the operation was cancelled.`, {
          host,
          step,
        }),
      );
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const timer = setTimeout(() => finish(timeoutError(conn.target, argv, timeoutMs, step)), backstopMs);

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
          finish(
            e instanceof SshError
              ? e
              : new SshError(
                  "AGENT_PROTOCOL",
                  `Reading the output of ${describe(argv)} on ${host} failed: ${(e as Error).message}`,
                  { host, step, cause: e },
                ),
          );
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
        finish(
          new SshError(
            "CONNECTION_LOST",
            `Sending input to ${describe(argv)} on ${host} failed: ${(stdinError as Error).message}`,
            { host, step, cause: stdinError },
          ),
        );
        return;
      }
      if (exitCode === null && exitSignal === null && !done) {
        // Closed without an exit status: the connection went away under us, or sshd dropped the session.
        const e = conn.closeError();
        if (e)
          return finish(
            new SshError(e.code, `${e.message} (while running ${describe(argv)})`, { host, step, cause: e }),
          );
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

/**
 * Send a signal request (OpenSSH ≥ 7.9 delivers it to the session's process). ssh2's
 * Channel.signal() silently does nothing once our side of the channel has ended (stdin closed),
 * which is the normal state of a running command, so talk to the protocol layer directly.
 */
function sendSignal(ch: ClientChannel, name: "TERM" | "KILL"): void {
  const c = ch as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, sig: string): void } };
  };
  try {
    if (c.outgoing && (c.outgoing.state === "open" || c.outgoing.state === "eof"))
      c._client?._protocol?.signal(c.outgoing.id, name);
  } catch {
    /* connection already gone */
  }
}

/** Exit statuses that arrived before runOnChannel attached its listeners (see openExec). */
export const earlyExit = new WeakMap<ClientChannel, { code: number | null; signal: string | null }>();
