import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeDelta, DeltaError } from "./decode";
import { encodeDelta } from "./encode";
import { bundleDecoder, decodeInChild, sendStream, writeTree } from "./test-fixtures";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keel-delta-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function encodeToBuffer(
  parentDir: string,
  target: Buffer | string,
  version: 1 | 2 = 1,
): Promise<{ delta: Buffer; bytes: number; diffBytes: number }> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on("data", (c: Buffer) => chunks.push(c));
  const r = await encodeDelta({
    parentDir,
    target: typeof target === "string" ? target : Readable.from([target]),
    out,
    quality: 5,
    version,
  });
  return { delta: Buffer.concat(chunks), bytes: r.bytes, diffBytes: r.diffBytes };
}

async function decodeToBuffer(parentDir: string, delta: Buffer): Promise<{ out: Buffer; sha256: string }> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const r = await decodeDelta({ parentDir, input: Readable.from([delta]), output });
  expect(r.bytes).toBe(Buffer.concat(chunks).length);
  return { out: Buffer.concat(chunks), sha256: r.sha256 };
}

async function decodeError(parentDir: string, delta: Buffer): Promise<{ code: string; written: number }> {
  let written = 0;
  const output = new Writable({
    write(c: Buffer, _e, cb) {
      written += c.length;
      cb();
    },
  });
  try {
    await decodeDelta({ parentDir, input: Readable.from([delta]), output });
  } catch (e) {
    expect(e).toBeInstanceOf(DeltaError);
    return { code: (e as DeltaError).code, written };
  }
  throw new Error("decode succeeded");
}

/** Text-like bytes with structure, so that edits look like a real release's. */
function sourceLike(n: number, seed: number): Buffer {
  const words = [
    "function",
    "return",
    "const",
    "export",
    "import",
    "if",
    "else",
    "node",
    "value",
    "=>",
    "{",
    "}",
    ";",
    "\n",
  ];
  const out: string[] = [];
  let x = seed;
  let len = 0;
  while (len < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = `${words[x % words.length]}${x % 7 === 0 ? x % 1000 : ""} `;
    out.push(w);
    len += w.length;
  }
  return Buffer.from(out.join("")).subarray(0, n);
}

function edit(b: Buffer, seed: number, edits: number): Buffer {
  let out = Buffer.from(b);
  for (let i = 0; i < edits; i++) {
    const at = (seed * 7919 * (i + 1)) % out.length;
    out = Buffer.concat([
      out.subarray(0, at),
      Buffer.from(`/*change ${i}*/`),
      out.subarray(at + (i % 3) * 5),
    ]);
  }
  return out;
}

describe("delta round trip", () => {
  it("rebuilds random bytes that are not a send stream, copying what the parent has", async () => {
    const parent = join(dir, "p-random");
    const a = randomBytes(300_000);
    const b = randomBytes(70_000);
    await writeTree(parent, { "a.bin": a, "sub/b.bin": b, empty: Buffer.alloc(0) });
    const target = Buffer.concat([
      randomBytes(1000),
      a.subarray(5000, 200_000),
      randomBytes(10),
      b,
      a.subarray(0, 4000),
      randomBytes(3),
    ]);
    const { delta } = await encodeToBuffer(parent, target);
    expect(delta.length).toBeLessThan(3000); // 270 KB of target, ~1 KB of new bytes
    const { out } = await decodeToBuffer(parent, delta);
    expect(out.equals(target)).toBe(true);
  });

  it("rebuilds a send stream of edited files byte for byte and ships only the edits", async () => {
    const parent = join(dir, "p-send");
    const old = {
      "lib/main.js": sourceLike(900_000, 1),
      "lib/other.js": sourceLike(300_000, 2),
      "README.md": sourceLike(5000, 3),
    };
    await writeTree(parent, old);
    const target = sendStream([
      { path: "lib/main.js", data: edit(old["lib/main.js"], 11, 20) },
      { path: "lib/other.js", data: old["lib/other.js"] },
      { path: "lib/new.js", data: sourceLike(20_000, 99) },
    ]);
    const targetFile = join(dir, "send-target");
    await writeFile(targetFile, target);
    const { delta } = await encodeToBuffer(parent, targetFile);
    expect(delta.length).toBeLessThan(15_000); // vs 1.2 MB of stream
    const { out } = await decodeToBuffer(parent, delta);
    expect(out.equals(target)).toBe(true);
  });

  it("format 2: a rebuilt binary (every 4th–8th byte shifted) becomes DIFF ops, smaller than format 1", async () => {
    const parent = join(dir, "p-binary");
    const old = randomBytes(400_000);
    await writeTree(parent, { "bin/tool": old, "other.bin": randomBytes(50_000) });
    // As addresses in rebuilt code: one byte in every 4 to 8 changes by a few values, except in the
    // first 100 bytes of every 4 KiB (the exact matches that seed the approximate ones); some new bytes.
    const rebuilt = Buffer.from(old);
    for (let i = 3, k = 0; i < rebuilt.length; i += 4 + (k++ % 5))
      if (i % 4096 >= 100) rebuilt[i] = (rebuilt[i]! + 16 * (1 + (k % 3))) & 0xff;
    const target = sendStream([
      {
        path: "bin/tool",
        data: Buffer.concat([rebuilt.subarray(0, 200_000), randomBytes(500), rebuilt.subarray(200_000)]),
      },
    ]);
    const v1 = await encodeToBuffer(parent, target, 1);
    const v2 = await encodeToBuffer(parent, target, 2);
    expect(v1.diffBytes).toBe(0);
    expect(v2.diffBytes).toBeGreaterThan(390_000);
    expect(v2.bytes).toBeLessThan(v1.bytes / 2);
    expect((await decodeToBuffer(parent, v1.delta)).out.equals(target)).toBe(true);
    expect((await decodeToBuffer(parent, v2.delta)).out.equals(target)).toBe(true);
  });

  it("rebuilds an empty target and a target with no parent at all", async () => {
    const parent = join(dir, "p-empty");
    await writeTree(parent, { x: Buffer.from("x") });
    for (const target of [Buffer.alloc(0), randomBytes(50_000)]) {
      for (const version of [1, 2] as const) {
        const { delta } = await encodeToBuffer(parent, target, version);
        expect((await decodeToBuffer(parent, delta)).out.equals(target)).toBe(true);
      }
    }
  });
});

describe.each([1, 2] as const)("delta refusals, format %i", (version) => {
  let parent: string;
  let target: Buffer;
  let delta: Buffer;
  beforeAll(async () => {
    parent = join(dir, `p-refuse-${version}`);
    const old = { "a.js": sourceLike(400_000, 5), "b.js": sourceLike(100_000, 6) };
    await writeTree(parent, old);
    target = sendStream([
      { path: "a.js", data: edit(old["a.js"], 3, 5) },
      { path: "b.js", data: edit(old["b.js"], 4, 2) },
    ]);
    delta = (await encodeToBuffer(parent, target, version)).delta;
  });

  it("refuses every truncation with TRUNCATED", async () => {
    for (const cut of [0, 5, 16, 40, delta.length - 40, delta.length - 1]) {
      const r = await decodeError(parent, delta.subarray(0, cut));
      expect(r.code, `cut at ${cut}`).toBe("TRUNCATED");
    }
  });

  it("refuses bit flips in the body", async () => {
    const headerEnd = 16 + delta.readUInt32BE(12);
    for (let i = 0; i < 12; i++) {
      const at = headerEnd + Math.floor(((delta.length - headerEnd) * i) / 12);
      const bad = Buffer.from(delta);
      bad[at]! ^= 0x10;
      const r = await decodeError(parent, bad);
      expect(["CORRUPT", "TRUNCATED"], `flip at ${at}`).toContain(r.code);
    }
  });

  it("refuses a header that promises other bytes, garbage and a foreign format", async () => {
    const json = delta.subarray(16, 16 + delta.readUInt32BE(12)).toString();
    const sha = (JSON.parse(json) as { target: { sha256: string } }).target.sha256;
    const other = Buffer.from(delta);
    other.write(sha.startsWith("0") ? "1" : "0", 16 + json.indexOf(sha));
    expect((await decodeError(parent, other)).code).toBe("CORRUPT");
    expect((await decodeError(parent, randomBytes(5000))).code).toBe("UNSUPPORTED");
    const v3 = Buffer.from(delta);
    v3.writeUInt32BE(3, 8);
    expect((await decodeError(parent, v3)).code).toBe("UNSUPPORTED");
  });

  it("refuses a host whose parent differs with PARENT_MISMATCH before writing anything", async () => {
    const host = join(dir, "host-parent");
    const a = await readFile(join(parent, "a.js"));
    const b = await readFile(join(parent, "b.js"));
    // one byte changed, same size
    const changed = Buffer.from(a);
    changed[1000] = changed[1000]! ^ 1;
    await writeTree(host, { "a.js": changed, "b.js": b });
    let r = await decodeError(host, delta);
    expect(r).toEqual({ code: "PARENT_MISMATCH", written: 0 });
    // missing file
    await writeFile(join(host, "a.js"), a);
    await unlink(join(host, "b.js"));
    r = await decodeError(host, delta);
    expect(r).toEqual({ code: "PARENT_MISMATCH", written: 0 });
    // right content, but reached through a symlink that leaves the tree
    await writeTree(join(dir, "elsewhere"), { "b.js": b });
    await symlink(join(dir, "elsewhere", "b.js"), join(host, "b.js"));
    r = await decodeError(host, delta);
    expect(r).toEqual({ code: "PARENT_MISMATCH", written: 0 });
    // and the genuine parent decodes
    await unlink(join(host, "b.js"));
    await writeFile(join(host, "b.js"), b);
    expect((await decodeToBuffer(host, delta)).out.equals(target)).toBe(true);
  });
});

describe("delta decoder as keel-agent runs it", () => {
  it("bundles to one file that imports only Node's standard library", async () => {
    const { imports } = await bundleDecoder(join(dir, "decode.mjs"));
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i, i).toMatch(/^node:/);
  });

  it("decodes a 256 MB target in a child process with bounded memory", async () => {
    const parent = join(dir, "p-big");
    const big = randomBytes(64 << 20);
    await writeTree(parent, { "big.bin": big });
    const targetFile = join(dir, "big-target");
    const parts: Buffer[] = [];
    for (let i = 0; i < 4; i++) parts.push(Buffer.from(`edit ${i}`), big.subarray(i * 1000));
    await writeFile(targetFile, Buffer.concat(parts));
    const deltaFile = join(dir, "big.delta");
    const { delta } = await encodeToBuffer(parent, targetFile);
    expect(delta.length).toBeLessThan(50_000);
    await writeFile(deltaFile, delta);
    const bundle = join(dir, "decode.mjs");
    await bundleDecoder(bundle);
    const r = await decodeInChild(bundle, parent, deltaFile, join(dir, "big-out"));
    expect(r.error).toBeUndefined();
    expect(r.bytes).toBe(parts.reduce((s, p) => s + p.length, 0));
    // Measured ≈ 84 MB (node itself ≈ 45 MB). The target (256 MB) or the parent (64 MB) held in memory would show here.
    expect(r.peakRssKiB!).toBeLessThan(112 * 1024);
    expect((await readFile(join(dir, "big-out"))).equals(await readFile(targetFile))).toBe(true);
  }, 120_000);

  it("copies from more parent files than the process may open at once", async () => {
    // 600 files and a limit of 200 descriptors: the decoder keeps a quarter of them open. Each copy
    // misses 2–3 blocks in a row (one read), some ending inside a file's last, partial block.
    const parent = join(dir, "p-many");
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 600; i++) files[`d${i % 7}/f${i}.bin`] = randomBytes(8192 + (i % 5) * 1000);
    await writeTree(parent, files);
    const target = Buffer.concat(
      [...Object.values(files)].reverse().flatMap((b, i) => [Buffer.from(`edit ${i}`), b.subarray(i % 100)]),
    );
    const targetFile = join(dir, "many-target");
    await writeFile(targetFile, target);
    const { delta } = await encodeToBuffer(parent, targetFile);
    const deltaFile = join(dir, "many.delta");
    await writeFile(deltaFile, delta);
    const bundle = join(dir, "decode.mjs");
    await bundleDecoder(bundle);
    const r = await decodeInChild(bundle, parent, deltaFile, join(dir, "many-out"), 200);
    expect(r.error).toBeUndefined();
    expect((await readFile(join(dir, "many-out"))).equals(target)).toBe(true);
  }, 120_000);
});
