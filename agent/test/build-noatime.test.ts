// `keel-agent build` makes its store's mount noatime before it reads a tree (decision 0030): on a
// relatime mount the rsync --checksum read of the snapshot records atimes, and the incremental
// stream then carries a UTIMES for every unchanged file it read.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildRelease, testBench, writeTree, type Scratch } from "./helpers";

let s: Scratch;
let key: string;
let src: string;
let out: string;
beforeAll(() => {
  ({ s, key, src, out } = testBench("noatime"));
});
afterAll(() => s?.cleanup());

const options = (mnt: string) => execFileSync("findmnt", ["-n", "-o", "OPTIONS", mnt]).toString();

it("a build store mounted relatime is remounted noatime by the build, and the next delta carries no read times", () => {
  const store = s.btrfs("build", 200);
  execFileSync("mount", ["-o", "remount,relatime", store]);
  expect(options(store)).toMatch(/relatime/);
  const files = Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [`lib/f${i}.js`, `export const x = ${i};\n`]),
  );
  writeTree(src, files);
  buildRelease(store, src, "web", "1.0", key, out);
  expect(options(store)).toMatch(/noatime/);
  writeTree(src, { "lib/f7.js": "export const x = 8;\n" });
  const b = buildRelease(store, src, "web", "1.1", key, out, "1.0");
  const dump = execFileSync("btrfs", ["receive", "--dump", "-f", b.incStream!]).toString();
  const utimes = dump.split("\n").filter((l) => l.startsWith("utimes"));
  expect(utimes.length).toBeLessThan(5); // the changed file and its directories, not all 200 files
});
