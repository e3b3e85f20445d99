// What the benchmarks measure about the console process, shared by bench:rollout and bench:scale:
// every round trip to PostgreSQL it makes, its peak RSS, the whole machine's CPU, percentiles and
// the units figures are printed in.
import { readFileSync } from "node:fs";
import pg from "pg";

/**
 * Counts every round trip to PostgreSQL this process makes (Prisma through node-postgres, and
 * pg-boss) from now on. Call once per process; read the count with the returned function.
 */
export function countQueries(): () => number {
  let queries = 0;
  const pgQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    queries++;
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pgQuery;
  return () => queries;
}

/** Samples this process's RSS every 100 ms; peak() includes the kernel's own high-water mark. */
export function rssSampler(): { peak(): number; stop(): void } {
  let peak = 0;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  t.unref();
  return {
    peak: () => Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024),
    stop: () => clearInterval(t),
  };
}

/** This process's CPU (user + system) in ms since it started. */
export function processCpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** CPU ms the whole machine spent (all cores, user + system) since boot, from /proc/stat. */
export function machineCpuMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = f as number[];
  return ((user! + nice! + system! + irq! + softirq!) * 1000) / 100; // USER_HZ = 100
}

/** The machine's 1-minute load average, as the docs quote it next to each figure. */

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
};

export const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
export const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
export const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
