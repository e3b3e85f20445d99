// What a command run on a host gives back, and the errors that describe it for people.
import { SshError, type SshStep } from "./errors";
import { printable, type SshTarget } from "./target";
import { type Readable } from "node:stream";

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

export function timeoutError(
  target: SshTarget,
  argv: readonly string[],
  timeoutMs: number,
  step: SshStep,
): SshError {
  return new SshError(
    "COMMAND_TIMEOUT",
    `${describe(argv)} on ${target.name} did not finish within ${Math.round(timeoutMs / 1000)} s (step ${step}); it was stopped. Check whether the host is overloaded or the command hangs.`,
    { host: target.name, step, details: { timeoutMs } },
  );
}

export function describe(argv: readonly string[]): string {
  const shown = argv
    .slice(0, 3)
    .map((a) => printable(a, 40))
    .join(" ");
  return `"${shown}${argv.length > 3 ? " …" : ""}"`;
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

export function commandFailed(
  target: SshTarget,
  argv: readonly string[],
  r: ExecResult,
  step: SshStep,
): SshError {
  const tail = printable(lossyText(r.stderr.subarray(-400)).trim(), 300);
  const how = r.exitSignal ? `was killed by signal ${r.exitSignal}` : `exited with status ${r.exitCode}`;
  return new SshError(
    "COMMAND_FAILED",
    `${describe(argv)} on ${target.name} ${how}${tail ? `: ${tail}` : ""}.`,
    {
      host: target.name,
      step,
      details: { exitCode: r.exitCode, exitSignal: r.exitSignal, stderr: tail },
    },
  );
}
