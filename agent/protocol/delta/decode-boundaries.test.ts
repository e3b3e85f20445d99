// The decoder's edges, with deltas written op by op (no encoder choosing for us): copies that cross
// the parent cache's 4 KiB blocks, end at a file's last partial block, bypass the cache (≥ 64 KiB),
// alternate between files, sweep more parent than the cache holds; zero-length files and records;
// commands that straddle the 2 MiB output buffer. Each case compares every byte with the target
// built independently here, so a wrong offset, a stale cached block or a lost flush fails it.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, symlink, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaDecoder, DeltaError } from "./decode";
import { decodeInPieces } from "./test-fixtures";
import { OUT_BYTES } from "./frame-decoder";
import {
  DELTA_FORMAT_VERSION,
  DELTA_MAGIC,
  Kind,
  Op,
  SEND_CMD_HEADER,
  buildWriteCommand,
  pushVarint,
  sendCommandCrc,
  zigzag,
} from "./format";

let dir: string;
const parent: Record<string, Buffer> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keel-delta-edges-"));
  parent["a.bin"] = randomBytes(10_000); // last block partial (10,000 = 2 × 4096 + 1,808)
  parent["b.bin"] = randomBytes(200_000);
  parent["empty"] = Buffer.alloc(0);
  for (let i = 0; i < 4; i++) parent[`big/${i}.bin`] = randomBytes(5 * 1024 * 1024); // 20 MiB > the 12 MiB cache
  for (const [p, data] of Object.entries(parent)) {
    await mkdir(join(dir, "parent", p, ".."), { recursive: true });
    await writeFile(join(dir, "parent", p), data);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a delta record by record, and the target it must decode to alongside. */
class Builder {
  readonly files: string[];
  private ops: number[] = [];
  private lits: Buffer[] = [];
  private target: Buffer[] = [];
  private ends = new Map<number, number>();
  private last = -1;
  constructor(files: string[]) {
    this.files = files;
  }
  /** Data ops for `parts`: a Buffer is a literal, [file, offset, len] a copy. */
  private data(parts: (Buffer | [number, number, number])[]): Buffer {
    const out: Buffer[] = [];
    for (const p of parts) {
      if (Buffer.isBuffer(p)) {
        pushVarint(this.ops, p.length * 4 + Op.LIT);
        this.lits.push(p);
        out.push(p);
        continue;
      }
      const [fi, off, len] = p;
      if (fi === this.last) pushVarint(this.ops, len * 4 + Op.COPY_SAME);
      else {
        pushVarint(this.ops, len * 4 + Op.COPY_FILE);
        pushVarint(this.ops, fi);
      }
      pushVarint(this.ops, zigzag(off - (this.ends.get(fi) ?? 0)));
      this.ends.set(fi, off + len);
      this.last = fi;
      out.push(parent[this.files[fi]!]!.subarray(off, off + len));
    }
    return Buffer.concat(out);
  }
  raw(parts: (Buffer | [number, number, number])[]): this {
    const len = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p[2]), 0);
    this.ops.push(Kind.RAW);
    pushVarint(this.ops, len);
    this.target.push(this.data(parts));
    return this;
  }
  command(cmd: number, parts: (Buffer | [number, number, number])[]): this {
    const len = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p[2]), 0);
    this.ops.push(Kind.COMMAND);
    pushVarint(this.ops, cmd);
    pushVarint(this.ops, len);
    const c = Buffer.concat([Buffer.alloc(SEND_CMD_HEADER), this.data(parts)]);
    c.writeUInt32LE(len, 0);
    c.writeUInt16LE(cmd, 4);
    c.writeUInt32LE(sendCommandCrc(c), 6);
    this.target.push(c);
    return this;
  }
  write(path: string, offset: number, parts: (Buffer | [number, number, number])[]): this {
    const p = Buffer.from(path);
    const len = parts.reduce((n, x) => n + (Buffer.isBuffer(x) ? x.length : x[2]), 0);
    this.ops.push(Kind.WRITE);
    pushVarint(this.ops, p.length);
    this.lits.push(p);
    pushVarint(this.ops, offset);
    pushVarint(this.ops, len);
    const c = buildWriteCommand(p, offset, len);
    this.data(parts).copy(c, c.length - len);
    c.writeUInt32LE(sendCommandCrc(c), 6);
    this.target.push(c);
    return this;
  }
  /** A RAW record of 1 byte whose only data op has length 0. */
  zeroOp(): this {
    this.ops.push(Kind.RAW, 1, Op.LIT);
    return this;
  }
  /** The delta (one frame) and its target. */
  build(): { delta: Buffer; target: Buffer } {
    this.ops.push(Kind.END);
    const target = Buffer.concat(this.target);
    const header = Buffer.from(
      JSON.stringify({
        target: { bytes: target.length, sha256: createHash("sha256").update(target).digest("hex") },
        parent: {
          files: this.files.map((f) => ({
            path: f,
            bytes: parent[f]!.length,
            sha256: createHash("sha256").update(parent[f]!).digest("hex"),
          })),
        },
        encoder: "test",
      }),
    );
    const lits = Buffer.concat(this.lits);
    const frame: number[] = [];
    pushVarint(frame, this.ops.length);
    pushVarint(frame, lits.length);
    const body = brotliCompressSync(Buffer.concat([Buffer.from(frame), Buffer.from(this.ops), lits]));
    const pre = Buffer.alloc(16);
    DELTA_MAGIC.copy(pre);
    pre.writeUInt32BE(DELTA_FORMAT_VERSION, 8);
    pre.writeUInt32BE(header.length, 12);
    return { delta: Buffer.concat([pre, header, body]), target };
  }
}

const decode = (delta: Buffer, parentDir = join(dir, "parent")) => decodeInPieces(delta, parentDir);

async function decodeCode(delta: Buffer, parentDir = join(dir, "parent")): Promise<string> {
  try {
    await decode(delta, parentDir);
  } catch (e) {
    expect(e).toBeInstanceOf(DeltaError);
    return (e as DeltaError).code;
  }
  return "decoded";
}

describe("keel-delta-1 decoder edges", () => {
  it("copies across block boundaries, to a file's last byte, and alternating between files", async () => {
    const b = new Builder(["a.bin", "b.bin", "empty"]);
    b.raw([[0, 4090, 20]]) // crosses 4096
      .raw([[0, 9_990, 10]]) // the last partial block, to the last byte
      .raw([[0, 0, 10_000]]) // the whole file
      .raw([[1, 8191, 2], Buffer.from("x"), [0, 8191, 2], [1, 0, 1], [0, 4095, 4098]]) // alternating, boundaries both sides
      .raw([[1, 100_000, 64 * 1024]]) // exactly the size that bypasses the cache
      .raw([
        [1, 199_999, 1],
        [1, 131_071, 65_537],
      ]) // backwards in the same file (negative offsets), a direct read
      .raw([]); // a zero-length record
    const { delta, target } = b.build();
    expect((await decode(delta)).equals(target)).toBe(true);
  });

  it("serves copies right after the cache evicted their blocks (more parent than the cache holds)", async () => {
    const files = [0, 1, 2, 3].map((i) => `big/${i}.bin`);
    const b = new Builder(files);
    // Two sweeps over 20 MiB in 3,000-byte copies (each in a RAW record of ≤ 1 MiB): the second
    // sweep finds every block evicted by the first, at offsets not aligned to blocks.
    for (let sweep = 0; sweep < 2; sweep++) {
      for (let fi = 0; fi < 4; fi++) {
        const parts: [number, number, number][] = [];
        for (let off = sweep * 1000; off + 3000 <= 5 * 1024 * 1024; off += 3000) {
          parts.push([fi, off, 3000]);
          if (parts.length === 300) b.raw(parts.splice(0));
        }
        b.raw(parts);
      }
    }
    const { delta, target } = b.build();
    expect(target.length).toBeGreaterThan(40_000_000);
    expect((await decode(delta)).equals(target)).toBe(true);
  });

  it("rebuilds WRITEs and commands with their CRCs across output-buffer flushes", async () => {
    const b = new Builder(["a.bin", "b.bin"]);
    for (let i = 0; i < 12; i++) b.command(20, [randomBytes(1000), [1, i * 15_000, 200_000 - i * 15_000]]); // ≈ 2.2 MB: flushes mid-run
    b.command(21, []); // an empty payload
    b.write("lib/x.js", 2 ** 33 + 5, [[1, 0, 60_000], Buffer.from("tail")]); // offset above 32 bits
    b.write("lib/x.js", 7, []);
    b.command(3, [randomBytes(1024 * 1024 - 1)]); // the largest command, right after a flush point
    const { delta, target } = b.build();
    expect(target.length).toBeGreaterThan(OUT_BYTES); // at least one flush with a command pending
    expect((await decode(delta)).equals(target)).toBe(true);
  });

  it("refuses copies outside a file, zero-length ops and records past the target's size", async () => {
    const past = new Builder(["a.bin"]).raw([[0, 9_999, 2]]).build();
    expect(await decodeCode(past.delta)).toBe("CORRUPT");
    const intoEmpty = new Builder(["empty", "a.bin"]).raw([[0, 0, 1]]).build();
    expect(await decodeCode(intoEmpty.delta)).toBe("CORRUPT");
    // A zero-length literal op inside a 1-byte RAW record.
    expect(await decodeCode(new Builder(["a.bin"]).zeroOp().build().delta)).toBe("CORRUPT");
    // A copy of 0 bytes.
    expect(await decodeCode(new Builder(["a.bin"]).raw([[0, 10, 0]]).build().delta)).toBe("CORRUPT");
  });

  it("refuses a parent file reached through a symlinked directory, before any byte", async () => {
    const host = join(dir, "host-dirlink");
    await mkdir(join(host), { recursive: true });
    await writeFile(join(host, "a.bin"), parent["a.bin"]!);
    await symlink(join(dir, "parent", "big"), join(host, "big")); // same bytes, outside the host tree
    const { delta } = new Builder(["a.bin", "big/0.bin"]).raw([[1, 0, 10]]).build();
    expect(await decodeCode(delta, host)).toBe("PARENT_MISMATCH");
  });

  it("skips the parent's SHA-256 when the caller verifies, and names the differing file when asked", async () => {
    const host = join(dir, "host-changed");
    await mkdir(host, { recursive: true });
    const changed = Buffer.from(parent["a.bin"]!);
    changed[5000]! ^= 1;
    await writeFile(join(host, "a.bin"), changed);
    const { delta, target } = new Builder(["a.bin"]).raw([[0, 4000, 2000]]).build();
    const got: Buffer[] = [];
    const d = new DeltaDecoder({
      parentDir: host,
      input: Readable.from([delta]),
      put: async (b) => void got.push(Buffer.from(b)),
      checkDigests: false,
    });
    const r = await d.run();
    expect(r.sha256).toBeNull();
    const out = Buffer.concat(got);
    expect(out.length).toBe(target.length);
    expect(out.equals(target)).toBe(false); // the changed byte came through: the caller's digests catch it
    expect(d.parentMismatch()?.message).toMatch(/a\.bin differs/);
    expect(await decodeCode(delta, host)).toBe("PARENT_MISMATCH"); // decodeDelta checks first
  });
});
