// One `npm start` per data directory. A second start on the same directory used to take the first
// one's embedded PostgreSQL for a leftover of a killed start and stop it (and fight over the port
// and the build store's mount), so the running console lost its database. The lock is a file in
// the data directory naming the console's pid and that process's start time (so that a pid reused
// by another process after a crash is not mistaken for a running console); a lock whose process is
// gone is taken over, and the leftover PostgreSQL of a killed start is still stopped as before.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processStart } from "@/infra/proc-stat";
import { StartError } from "./database";

/** Takes the data directory for this process, or throws a StartError naming the console that holds it. */
export function lockDataDir(dataDir: string, pid = process.pid): { release(): void } {
  const file = join(dataDir, "console.pid");
  const mine = `${pid} ${processStart(pid)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: "wx", mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const [other, started] = readFileSync(file, "utf8").trim().split(" ");
      const otherPid = Number(other);
      if (otherPid && started && processStart(otherPid) === started)
        throw new StartError(
          `another Keel console (pid ${otherPid}) is running with the data directory ${dataDir}: stop it first (Ctrl-C in its terminal, or kill -INT ${otherPid}), or start this one with another KEEL_DATA_DIR.`,
        );
      rmSync(file, { force: true }); // its process is gone: a start that was killed
    }
  }
  return {
    release() {
      if (existsSync(file) && readFileSync(file, "utf8") === mine) rmSync(file, { force: true });
    },
  };
}
