import { readFileSync } from "node:fs";
// What /proc/<pid>/stat says of a process, for the tools that start, lock and measure processes
// (npm start's data-directory lock, the lab's lock and teardown, the benches). The command name is
// in parentheses and may itself hold spaces or ")", so the fields are counted after the last ")".

/**
 * The process's command name and the fields after it: `fields[0]` is field 3 of proc(5) (state),
 * `fields[1]` the parent pid, `fields[11]`–`fields[14]` utime, stime, cutime, cstime (clock ticks),
 * `fields[19]` the start time (ticks since boot). null when the process is gone.
 */
export function procStat(pid: number | "self"): { comm: string; fields: string[] } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const end = stat.lastIndexOf(")");
  return { comm: stat.slice(stat.indexOf("(") + 1, end), fields: stat.slice(end + 2).split(" ") };
}

/** The process's start time in clock ticks since boot; with its pid it names one process. null if gone. */
export function processStart(pid: number): string | null {
  return procStat(pid)?.fields[19] ?? null;
}
