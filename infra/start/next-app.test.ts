import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newestMtime } from "./next-app";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(path: string, secondsAgo: number) {
  writeFileSync(path, "x");
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(path, t, t);
}

describe("newestMtime (whether the console's build is stale)", () => {
  it("sees a changed source file but not a changed test, test fixture or test-support file", () => {
    const dir = mkdtempSync(join(tmpdir(), "keel-build-inputs-"));
    dirs.push(dir);
    mkdirSync(join(dir, "svc", "test-support"), { recursive: true });
    file(join(dir, "svc", "a.ts"), 3600);
    const source = newestMtime(dir);
    file(join(dir, "svc", "a.test.ts"), 10);
    file(join(dir, "svc", "a.int.test.ts"), 10);
    file(join(dir, "svc", "page.spec.tsx"), 10);
    file(join(dir, "svc", "test-fixtures.ts"), 10);
    file(join(dir, "svc", "test-support", "lab.ts"), 10);
    expect(newestMtime(dir)).toBe(source);
    file(join(dir, "svc", "b.tsx"), 10);
    expect(newestMtime(dir)).toBeGreaterThan(source);
  });
});
