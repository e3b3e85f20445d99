// What the agent benchmarks (bench/agent.ts, bench/agent-delta.ts) share: a command measured
// under /usr/bin/time (wall, CPU of the whole process tree, the largest process's peak RSS), medians,
// the machine's load, and the agent of a baseline ref bundled for a side-by-side run.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";

export interface Measured {
  wallS: number;
  /** user + sys of the process tree (children waited for included). */
  cpuS: number;
  maxRssKiB: number;
  out: string;
}

export function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024 }).toString();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function loadavg(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** Runs a command under /usr/bin/time: wall, user + sys of the whole process tree, max RSS. */
export function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Measured> {
  return new Promise((res, rej) => {
    const fmt = "KEELTIME %e %U %S %M";
    const child = spawn("/usr/bin/time", ["-f", fmt, cmd, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", rej);
    child.on("close", (code) => {
      const m = /KEELTIME (\S+) (\S+) (\S+) (\d+)/.exec(out);
      if (code !== 0 || !m)
        return rej(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${out.slice(-2000)}`));
      res({ wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), maxRssKiB: Number(m[4]), out });
    });
  });
}

/** The agent's step timings (KEEL_AGENT_TIMING=1): step → wall ms. */
export function agentSteps(out: string): Map<string, number> {
  const steps = new Map<string, number>();
  for (const x of out.matchAll(/^keel-agent timing (\S+) (\d+) ms/gm)) steps.set(x[1]!, Number(x[2]));
  return steps;
}

/** Bundles the agent of `ref` in `dir` (git archive of agent/ + package.json, this checkout's node_modules). */
export function baselineAgent(repo: string, ref: string, dir: string): string {
  mkdirSync(dir);
  const tar = `${dir}.tar`;
  sh("git", ["-C", repo, "archive", "-o", tar, ref, "agent", "package.json"]);
  sh("tar", ["-xf", tar, "-C", dir]);
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  sh("node", [join(dir, "agent/build.mjs")]);
  return join(dir, "agent/dist/keel-agent.mjs");
}
