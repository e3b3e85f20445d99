// Small durable file operations: atomic write (tmp + fsync + rename + fsync dir), directory fsync,
// symlink reading, and child processes run as argument vectors that die with the agent.
import { spawn, type SpawnOptions } from "node:child_process";
import {
  closeSync,
  fsyncSync,
  openSync,
  readlinkSync,
  renameSync,
  writeSync,
  constants,
  unlinkSync,
} from "node:fs";
import { dirname, basename, join } from "node:path";
import type { Writable } from "node:stream";
import { span } from "../timing";

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileDurable(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function readLinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EINVAL")
      return null;
    throw e;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** With `timeoutMs`: the program outlived it and was killed with its process group. */
  timedOut: boolean;
}

/**
 * Runs a program (argument vector, never a shell). It is started through `setpriv --pdeathsig KILL`
 * so that it dies with the agent: a killed agent must not leave a btrfs receive running while the
 * next agent cleans `.staging`. Output is capped so a chatty child cannot exhaust memory.
 */
export function run(
  argv: readonly string[],
  opts: {
    /** "pipe": the caller writes the program's input through onSpawn's stdin. */
    stdin?: number | "ignore" | "pipe";
    cwd?: string;
    /** The program's whole environment (default: the agent's). */
    env?: NodeJS.ProcessEnv;
    maxOutput?: number;
    /** Kill the program and everything it started (its own process group) after this long. */
    timeoutMs?: number;
    onSpawn?: (pid: number, stdin: Writable | null) => void;
    /**
     * Run as this uid/gid instead of root: setpriv switches real and effective ids, drops every
     * supplementary group and capability (inheritable, ambient, bounding set) and sets
     * no_new_privs, so neither setuid programs (sudo, su) nor file capabilities give any back.
     */
    as?: { uid: number; gid: number };
    /**
     * Run in a PID namespace of its own (`unshare --pid --fork --kill-child`, as root, before the
     * switch to `as`): when the program ends or is killed, the kernel kills everything it started,
     * also what left its process group with setsid().
     */
    ownPids?: boolean;
  } = {},
): Promise<RunResult> {
  const max = opts.maxOutput ?? 256 * 1024;
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = {
      stdio: [opts.stdin ?? "ignore", "pipe", "pipe"],
      cwd: opts.cwd,
      env: opts.env,
      detached: opts.timeoutMs !== undefined,
    };
    const drop = opts.as
      ? [
          `--reuid=${opts.as.uid}`,
          `--regid=${opts.as.gid}`,
          "--clear-groups",
          "--inh-caps=-all",
          "--ambient-caps=-all",
          "--bounding-set=-all",
          "--no-new-privs",
        ]
      : [];
    const inner = opts.ownPids
      ? ["--", "unshare", "--pid", "--fork", "--kill-child", "--", "setpriv", ...drop]
      : drop;
    const done = span(`child:${argv.slice(0, 3).join("-")}`, true);
    const child = spawn("setpriv", ["--pdeathsig", "KILL", ...inner, "--", ...argv], so);
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              child.kill("SIGKILL");
            }
          }, opts.timeoutMs);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      if (stdout.length < max) stdout += d.toString("utf8");
    });
    child.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < max) stderr += d.toString("utf8");
    });
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid, child.stdin);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      done();
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Runs a program and throws (with its stderr) when it fails. */
export async function runChecked(
  argv: readonly string[],
  opts: Parameters<typeof run>[1] = {},
): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const why = (r.stderr || r.stdout).trim().split("\n").slice(-3).join("; ");
    throw new Error(`${argv.slice(0, 3).join(" ")} failed (${r.signal ?? `exit ${r.code}`}): ${why}`);
  }
  return r;
}
