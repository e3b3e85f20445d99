// Receive with wire encoding keel-delta-1 (agent/protocol/delta): the delta is decoded against the
// host's installed tree while it streams; the decoded bytes are verified chunk by chunk against the
// signed manifest exactly like a raw stream before btrfs receive gets them. Damaged deltas are
// refused and leave nothing behind.
import { execFileSync } from "node:child_process";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipeline } from "node:stream/promises";
import { encodeDelta } from "../protocol/delta/encode";
import { compressDeltaHeader } from "../protocol/wire/delta-header";
import {
  agent,
  buildRelease,
  randomData,
  receiveArgs,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Built,
  type Scratch,
} from "./helpers";

let s: Scratch;
let host: string;
let trusted: string;
let buildStore: string;
const rel: Record<string, Built> = {};
let incDelta: string;
let fullDelta: string;
let incDeltaC: string;

async function encode(parentDir: string, target: string, outPath: string, version?: 2): Promise<number> {
  const out = createWriteStream(outPath);
  const r = await encodeDelta({ parentDir, target, out, version });
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  return r.bytes;
}

beforeAll(async () => {
  const bench = testBench("delta");
  ({ s, trusted } = bench);
  const { key, out, src } = bench;
  buildStore = s.btrfs("build", 400);
  host = s.btrfs("host", 256);
  const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${i * 7919}`).join("\n");
  writeTree(src, { "lib/main.js": text, "lib/blob": randomData(1024 * 1024) });
  rel["1.9"] = buildRelease(buildStore, src, "web", "1.9", key, out);
  writeTree(src, { "lib/main.js": text.replace("line 20000 ", "line 20000 changed "), README: "new\n" });
  rel["1.10"] = buildRelease(buildStore, src, "web", "1.10", key, out, "1.9");
  incDelta = join(out, "inc.delta");
  fullDelta = join(out, "full.delta");
  await encode(join(buildStore, "apps/web/1.9"), rel["1.10"]!.incStream!, incDelta);
  await encode(join(buildStore, "apps/web/1.9"), rel["1.10"]!.stream, fullDelta);
  // keel-delta-c (decision 0044): the format-2 delta with its header compact (64-bit parent digests).
  const inc2 = join(out, "inc.delta2");
  await encode(join(buildStore, "apps/web/1.9"), rel["1.10"]!.incStream!, inc2, 2);
  incDeltaC = join(out, "inc.delta2c");
  await pipeline(compressDeltaHeader(createReadStream(inc2), "c"), createWriteStream(incDeltaC));
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
/** `receive` of a keel-delta-1 wire stream (`more`: further arguments such as --delta-base). */
const receiveDelta = (manifest: string, stream: string, ...more: string[]) =>
  agent([...receiveArgs(S(), { manifest, stream }), "--wire", "keel-delta-1", ...more]);

describe("wire encoding keel-delta-1", () => {
  it("a damaged delta is refused and nothing stays behind", () => {
    expect(agent(receiveArgs(S(), rel["1.9"]!)).code).toBe(0);
    expect(agent(["activate", ...S(), "web", "1.9"]).code).toBe(0);
    const b = Buffer.from(readFileSync(incDelta));
    b[b.length - 20]! ^= 0x55;
    const bad = join(s.root, "bad.delta");
    writeFileSync(bad, b);
    const r = receiveDelta(rel["1.10"]!.incManifest!, bad);
    expect(r.code).toBe(1);
    expect(["BAD_STREAM", "DIGEST_MISMATCH"]).toContain(r.json.error.code);
    expect(storeState(host, "web")).toMatchObject({
      current: "1.9",
      versions: ["1.9"],
      staging: [],
      journal: [],
    });
  });

  it("decodes an incremental stream against the installed parent, then verifies and receives it", () => {
    const wire = statSync(incDelta).size;
    const r = receiveDelta(rel["1.10"]!.incManifest!, incDelta);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({
      version: "1.10",
      wireBytes: wire,
      streamBytes: statSync(rel["1.10"]!.incStream!).size,
    });
    expect(r.json.wireBytes).toBeLessThan(r.json.streamBytes);
    expect(readFileSync(join(host, "apps/web/1.10/README"), "utf8")).toBe("new\n");
    expect(agent(["verify", ...S(), "web", "1.10"]).code).toBe(0);
    expect(agent(["remove", ...S(), "web", "1.10"]).json.removed).toBe(true);
  });

  it("keel-delta-c (a format-2 delta, its header compact) installs the same update via the CLI", () => {
    const r = agent([
      ...receiveArgs(S(), { manifest: rel["1.10"]!.incManifest!, stream: incDeltaC }),
      "--wire",
      "keel-delta-c",
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ version: "1.10", wireBytes: statSync(incDeltaC).size });
    expect(agent(["verify", ...S(), "web", "1.10"]).code).toBe(0);
    expect(agent(["remove", ...S(), "web", "1.10"]).json.removed).toBe(true);
  });

  it("decodes a full stream against another installed version named by --delta-base", () => {
    const r = receiveDelta(rel["1.10"]!.manifest, fullDelta, "--delta-base", "1.9");
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.wireBytes).toBeLessThan(r.json.streamBytes / 10);
    expect(agent(["verify", ...S(), "web", "1.10"]).code).toBe(0);
  });

  it("refuses a delta whose base is not installed", () => {
    expect(agent(["remove", ...S(), "web", "1.10"]).json.removed).toBe(true);
    const r = receiveDelta(rel["1.10"]!.manifest, fullDelta, "--delta-base", "0.1");
    expect(r.json.error).toMatchObject({ code: "PARENT_MISSING", step: "parent" });
    expect(storeState(host, "web")).toMatchObject({ current: "1.9", versions: ["1.9"], staging: [] });
  });

  it("names a base that differs from the one the delta was made against (same sizes): PARENT_MISMATCH, nothing left behind", () => {
    // Last: making the base writable clears its received UUID. The decoder does not hash the base
    // up front (decision 0021): the decoded chunk fails its signed digest, and only then is the
    // base hashed to tell the operator what to do.
    const base = join(host, "apps/web/1.9");
    const file = join(base, "lib/main.js");
    const at = readFileSync(file).indexOf("line 20001 "); // next to the edit: the delta copies it
    const flip = () => {
      execFileSync("btrfs", ["property", "set", "-f", "-ts", base, "ro", "false"]);
      const fd = openSync(file, "r+");
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0]! ^= 0x20;
      writeSync(fd, b, 0, 1, at);
      closeSync(fd);
      execFileSync("btrfs", ["property", "set", "-ts", base, "ro", "true"]);
    };
    flip();
    try {
      // keel-delta-c names it by the 64-bit digest prefix its compact header carries (decision 0044).
      for (const [wire, file] of [
        ["keel-delta-1", incDelta],
        ["keel-delta-c", incDeltaC],
      ] as const) {
        const r = agent([
          ...receiveArgs(S(), { manifest: rel["1.10"]!.incManifest!, stream: file }),
          "--wire",
          wire,
        ]);
        expect(r.code).toBe(1);
        expect(r.json.error).toMatchObject({ code: "PARENT_MISMATCH", step: "verify" });
        expect(r.json.error.message).toMatch(
          /lib\/main\.js differs .*send the stream without delta encoding/,
        );
        expect(storeState(host, "web")).toMatchObject({
          current: "1.9",
          versions: ["1.9"],
          staging: [],
          journal: [],
        });
      }
    } finally {
      flip();
    }
  });
});
