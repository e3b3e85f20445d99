import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processStart } from "@/infra/proc-stat";
import { lockDataDir } from "./instance-lock";

const dir = mkdtempSync(join(tmpdir(), "keel-instance-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lockDataDir (one npm start per data directory)", () => {
  it("refuses a second console while the first runs, naming it, and lets one start after it stopped", async () => {
    // The first console: another live process.
    const first = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const held = lockDataDir(dir, first.pid!);
      expect(() => lockDataDir(dir)).toThrow(
        new RegExp(`another Keel console \\(pid ${first.pid}\\) is running with the data directory`),
      );
      held.release();
      const mine = lockDataDir(dir);
      expect(readFileSync(join(dir, "console.pid"), "utf8")).toBe(
        `${process.pid} ${processStart(process.pid)}\n`,
      );
      mine.release();
      expect(existsSync(join(dir, "console.pid"))).toBe(false);
    } finally {
      first.kill("SIGKILL");
    }
  });

  it("takes over the lock of a console that was killed, and of a pid now used by another process", async () => {
    const gone = spawn("true", { stdio: "ignore" });
    await new Promise((r) => gone.once("exit", r));
    writeFileSync(join(dir, "console.pid"), `${gone.pid} 12345\n`); // its process has exited: as after kill -9
    lockDataDir(dir).release();
    // The same pid as a live process, but started at another time: not the console that wrote it.
    writeFileSync(join(dir, "console.pid"), `${process.pid} 1\n`);
    lockDataDir(dir).release();
    expect(existsSync(join(dir, "console.pid"))).toBe(false);
  });
});
