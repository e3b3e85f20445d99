// A lock file holding "pid starttime": taken with O_EXCL, taken over when its holder is gone
// (so a crashed `up` never blocks the `down` that cleans up after it).
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { processStart } from "@/infra/proc-stat";
import { LabError } from "./names";
import { sleep } from "./run";

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

function holderAlive(content: string): boolean {
  const [pidText, start] = content.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return processStart(pid) === start;
}

export async function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  const me = `${process.pid} ${processStart(process.pid)}\n`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, "wx", 0o644);
      writeSync(fd, me);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let content = "";
      try {
        content = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      // An empty file is a holder between open and write; give it a moment before calling it stale.
      const emptyAndOld = content === "" && Date.now() - mtimeOf(file) > 5000;
      if ((content !== "" && !holderAlive(content)) || emptyAndOld) {
        try {
          if (readFileSync(file, "utf8") === content) unlinkSync(file);
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new LabError(`timed out waiting for lock ${file} (held by ${content.trim() || "?"})`);
      await sleep(150 + Math.random() * 150);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(file, "utf8") === me) unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}
