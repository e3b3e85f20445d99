// The encoder reads the parent on demand through a page cache (decision 0031): a parent far larger
// than the cache, spread over more files than it keeps open, must still give a delta that decodes to
// the exact target — and the very same delta whatever the cache size, since the cache only decides
// what is read again, never what is matched.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeDelta } from "./decode";
import { encodeDelta, type EncodeDeltaResult } from "./encode";
import { sendStream, writeTree } from "./test-fixtures";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keel-delta-bounded-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic bytes that are unique enough to be matched (no repeated 32-byte blocks). */
function bytes(n: number, seed: number): Buffer {
  const blocks = Array.from({ length: Math.ceil(n / 32) }, (_, i) =>
    createHash("sha256").update(`${seed}:${i}`).digest(),
  );
  return Buffer.concat(blocks).subarray(0, n);
}

async function encode(
  parentDir: string,
  target: Buffer,
  parentCacheBytes?: number,
): Promise<{ delta: Buffer; r: EncodeDeltaResult }> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on("data", (c: Buffer) => chunks.push(c));
  const r = await encodeDelta({
    parentDir,
    target: Readable.from([target]),
    out,
    quality: 1,
    parentCacheBytes,
  });
  return { delta: Buffer.concat(chunks), r };
}

async function decode(parentDir: string, delta: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  await decodeDelta({ parentDir, input: Readable.from([delta]), output });
  return Buffer.concat(chunks);
}

describe("encoder with a parent larger than its cache", () => {
  it("rebuilds the target exactly, and the delta does not depend on the cache size", async () => {
    const parent = join(dir, "parent");
    // 300 files (more than the 256 descriptors the encoder keeps open) and one 2 MiB file: 4 MiB in
    // all, against a cache of 4 pages (128 KiB) — every page is evicted and read again many times.
    const files: Record<string, Buffer> = { "big/bundle.js": bytes(2 << 20, 0) };
    for (let i = 0; i < 300; i++)
      files[`lib/m${String(i).padStart(3, "0")}.js`] = bytes(5_000 + i * 11, i + 1);
    await writeTree(parent, files);
    const big = files["big/bundle.js"]!;
    const page = 32 * 1024;
    // The bundle edited across page boundaries (a byte changed just before one, bytes inserted just
    // after another, a run deleted across a third) and a file built from pieces of many parent files
    // in reverse order, so that copies jump between files and back.
    const bundle = Buffer.concat([
      big.subarray(0, 5 * page - 3),
      Buffer.from([big[5 * page - 3]! ^ 0xff]),
      big.subarray(5 * page - 2, 40 * page + 7),
      randomBytes(5),
      big.subarray(40 * page + 7, 50 * page - 100),
      big.subarray(50 * page + 100),
    ]);
    const pieces: Buffer[] = [];
    for (let i = 299; i >= 0; i -= 7) {
      const f = files[`lib/m${String(i).padStart(3, "0")}.js`]!;
      pieces.push(f.subarray(1000, 4000), randomBytes(3));
    }
    const target = sendStream([
      { path: "big/bundle.js", data: bundle },
      { path: "lib/mixed.js", data: Buffer.concat(pieces) },
      ...Object.entries(files)
        .filter(([p]) => p.startsWith("lib/"))
        .map(([path, data]) => ({ path, data })),
    ]);

    const small = await encode(parent, target, 4 * page);
    const large = await encode(parent, target);
    expect(small.delta.equals(large.delta)).toBe(true);
    // Almost everything is copied from the parent: what a user notices is a small delta.
    expect(small.r.copiedBytes).toBeGreaterThan(target.length * 0.95);
    expect(small.r.parentFiles).toBe(301);
    expect(small.delta.length).toBeLessThan(target.length / 20);
    expect((await decode(parent, small.delta)).equals(target)).toBe(true);
  }, 120_000);
});
