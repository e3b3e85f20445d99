// KEEL_AGENT_TIMING=1: step timings on stderr for the benchmarks (`keel-agent timing STEP N ms cpu
// N ms …`): each receive step (wall, then this process's CPU), each request served, and each child
// process the agent waited for (wall, then the child's own CPU with its children, from
// /proc/self/stat). Off, nothing is measured.
import { readFileSync } from "node:fs";

export const timingOn = (): boolean => Boolean(process.env.KEEL_AGENT_TIMING);

let last = performance.now();
let lastCpu = process.cpuUsage();

/** A receive step ended: its wall time and this process's CPU since the previous step. */
export function timing(step: string): void {
  if (!timingOn()) return;
  const now = performance.now();
  const cpu = process.cpuUsage(lastCpu);
  const mem = process.memoryUsage();
  const mib = (n: number) => (n / 1048576).toFixed(0);
  process.stderr.write(
    `keel-agent timing ${step} ${(now - last).toFixed(0)} ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms rss ${mib(mem.rss)} MiB heap ${mib(mem.heapTotal)} MiB buffers ${mib(mem.arrayBuffers)} MiB\n`,
  );
  last = now;
  lastCpu = process.cpuUsage();
}

/** Restarts the step clock (the start of a request). */
export function timingStart(): void {
  last = performance.now();
  lastCpu = process.cpuUsage();
}

/** CPU ms of the children this process has waited for (cutime + cstime, 10 ms ticks). */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return 0;
  }
}

/** Times a span (a request, a child process): call the returned function when it ends. */
export function span(name: string, children = false): () => void {
  if (!timingOn()) return () => undefined;
  const t0 = performance.now();
  const c0 = children ? childrenCpuMs() : 0;
  const p0 = process.cpuUsage();
  return () => {
    const own = process.cpuUsage(p0);
    const cpu = children ? childrenCpuMs() - c0 : (own.user + own.system) / 1000;
    process.stderr.write(
      `keel-agent timing ${name} ${(performance.now() - t0).toFixed(0)} ms cpu ${cpu.toFixed(0)} ms\n`,
    );
  };
}
