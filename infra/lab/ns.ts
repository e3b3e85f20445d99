// Looking at the machine: mounts, namespaces and the processes inside them, loop devices.
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { procStat } from "@/infra/proc-stat";
import { run, sleep } from "./run";

export function mountTargets(): Set<string> {
  const targets = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const target = line.split(" ")[4];
    if (target) targets.add(target.replace(/\\040/g, " "));
  }
  return targets;
}

export function isMountPoint(path: string): boolean {
  return mountTargets().has(path);
}

/** The namespace id behind a namespace file (an nsfs bind mount or /proc/PID/ns/X), or null. */
export function nsInode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

export function listPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^[0-9]+$/.test(d))
    .map(Number);
}

function nsOf(pid: number, kind: "net" | "mnt"): number | null {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function ancestorsOfSelf(): Set<number> {
  const mine = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !mine.has(pid)) {
    mine.add(pid);
    const stat = procStat(pid);
    if (!stat) break;
    pid = Number(stat.fields[1]);
  }
  return mine;
}

function uidOf(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Processes inside any of the given network / mount namespaces, running as `uid`, or whose
 * command line matches `match` (paths and names of a lab: catches orphans of a crashed `up` and
 * sshd listeners whose namespace files are already gone). Never this process or its ancestors.
 */
export function findLabProcesses(opts: {
  netIds?: number[];
  mntIds?: number[];
  uid?: number;
  match?: RegExp;
}): number[] {
  const net = new Set(opts.netIds ?? []);
  const mnt = new Set(opts.mntIds ?? []);
  const skip = ancestorsOfSelf();
  const found: number[] = [];
  for (const pid of listPids()) {
    if (skip.has(pid)) continue;
    const n = net.size ? nsOf(pid, "net") : null;
    const m = mnt.size ? nsOf(pid, "mnt") : null;
    if ((n !== null && net.has(n)) || (m !== null && mnt.has(m))) found.push(pid);
    else if (opts.uid !== undefined && uidOf(pid) === opts.uid) found.push(pid);
    else if (opts.match && opts.match.test(cmdlineOf(pid))) found.push(pid);
  }
  return found;
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export async function killAndWait(pids: number[], timeoutMs = 5000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (Date.now() < deadline) {
      const state = procStat(pid)?.fields[0];
      if (state === undefined) break;
      if (state === "Z") break; // dead, waiting for its parent to reap it; holds no mounts
      await sleep(20);
    }
  }
}

/** Loop devices whose backing file is under `prefix` (from sysfs, no parsing of losetup's text). */
export function loopDevicesUnder(prefix: string): { dev: string; file: string }[] {
  const out: { dev: string; file: string }[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/sys/block").filter((d) => /^loop[0-9]+$/.test(d));
  } catch {
    return out;
  }
  for (const d of entries) {
    try {
      const file = readFileSync(`/sys/block/${d}/loop/backing_file`, "utf8").trim();
      if (file.startsWith(prefix)) out.push({ dev: `/dev/${d}`, file });
    } catch {
      /* not attached */
    }
  }
  return out;
}

export async function listNetns(): Promise<string[]> {
  const res = await run(["ip", "netns", "list"], { allowFail: true });
  return res.stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
}

export async function listLinks(): Promise<string[]> {
  const res = await run(["ip", "-o", "link", "show"], { allowFail: true });
  const names: string[] = [];
  for (const line of res.stdout.split("\n")) {
    const m = /^\d+: ([^:@ ]+)/.exec(line);
    if (m?.[1]) names.push(m[1]);
  }
  return names;
}
