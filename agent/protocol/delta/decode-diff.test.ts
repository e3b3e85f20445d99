// Format 2's DIFF op (decision 0040), written op by op: a DIFF rebuilds parent bytes plus their
// differences exactly, from the file of the previous copy or a named one, across the decoder's
// cache blocks and its direct reads; and every malformed DIFF — outside its file, a file the header
// does not list, runs that do not cover the op, differences past the section, left-over
// differences, a DIFF in a format-1 delta — is refused with CORRUPT, never read past the parent
// file or written past the header's target size.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeltaError } from "./decode";
import { decodeInPieces } from "./test-fixtures";
import { DELTA_FORMAT_V2, DELTA_FORMAT_VERSION, DELTA_MAGIC, Kind, Op, pushVarint, zigzag } from "./format";

let dir: string;
const files = ["a.bin", "b.bin"];
const parent: Buffer[] = [randomBytes(10_000), randomBytes(200_000)];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keel-delta-diff-"));
  for (let i = 0; i < files.length; i++) await writeFile(join(dir, files[i]!), parent[i]!);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A literal, a copy [file, offset, len], or a DIFF [file, offset, len] giving `want` (default: the parent's bytes). */
type Part = Buffer | { copy: [number, number, number] } | { diff: [number, number, number]; want?: Buffer };

/** One RAW record per call, one frame; the target is built alongside from the parent's bytes. */
class Builder {
  ops: number[] = [];
  lits: Buffer[] = [];
  diffs: number[] = [];
  target: Buffer[] = [];
  private ends = new Map<number, number>();
  private last = -1;

  /** A DIFF's source: 0 = the previous copy's file, else index + 1. */
  private source(fi: number, off: number, len: number): void {
    pushVarint(this.ops, fi === this.last ? 0 : fi + 1);
    pushVarint(this.ops, zigzag(off - (this.ends.get(fi) ?? 0)));
    this.ends.set(fi, off + len);
    this.last = fi;
  }

  /** Runs covering d (zeros, then non-zero bytes up to the next zero). */
  private runs(d: Buffer): void {
    for (let p = 0; p < d.length;) {
      let q = p;
      while (q < d.length && d[q] === 0) q++;
      let e = q;
      while (e < d.length && d[e] !== 0) e++;
      pushVarint(this.diffs, q - p);
      pushVarint(this.diffs, e - q);
      this.diffs.push(...d.subarray(q, e));
      p = e;
    }
  }

  raw(parts: Part[]): this {
    const before = this.ops;
    this.ops = [];
    const out: Buffer[] = [];
    for (const p of parts) {
      if (Buffer.isBuffer(p)) {
        pushVarint(this.ops, p.length * 4 + Op.LIT);
        this.lits.push(p);
        out.push(p);
      } else if ("copy" in p) {
        const [fi, off, len] = p.copy;
        pushVarint(this.ops, len * 4 + (fi === this.last ? Op.COPY_SAME : Op.COPY_FILE));
        if (fi !== this.last) pushVarint(this.ops, fi);
        pushVarint(this.ops, zigzag(off - (this.ends.get(fi) ?? 0)));
        this.ends.set(fi, off + len);
        this.last = fi;
        out.push(parent[fi]!.subarray(off, off + len));
      } else {
        const [fi, off, len] = p.diff;
        const src = parent[fi]!.subarray(off, off + len);
        const want = p.want ?? src;
        pushVarint(this.ops, len * 4 + Op.DIFF);
        this.source(fi, off, len);
        this.runs(Buffer.from(want.map((b, k) => (b - src[k]!) & 0xff)));
        out.push(want);
      }
    }
    const t = Buffer.concat(out);
    const data = this.ops;
    this.ops = before;
    this.ops.push(Kind.RAW);
    pushVarint(this.ops, t.length);
    this.ops.push(...data);
    this.target.push(t);
    return this;
  }

  /** Raw op-stream and difference bytes, for malformed records. */
  rawOps(len: number, ops: number[], diffs: number[] = [], target: Buffer = Buffer.alloc(len)): this {
    this.ops.push(Kind.RAW);
    pushVarint(this.ops, len);
    this.ops.push(...ops);
    this.diffs.push(...diffs);
    this.target.push(target);
    return this;
  }

  build(version = DELTA_FORMAT_V2, targetBytes?: number): { delta: Buffer; target: Buffer } {
    const target = Buffer.concat(this.target);
    const header = Buffer.from(
      JSON.stringify({
        target: {
          bytes: targetBytes ?? target.length,
          sha256: createHash("sha256").update(target).digest("hex"),
        },
        parent: {
          files: files.map((f, i) => ({
            path: f,
            bytes: parent[i]!.length,
            sha256: createHash("sha256").update(parent[i]!).digest("hex"),
          })),
        },
        encoder: "test",
      }),
    );
    const ops = Buffer.from([...this.ops, Kind.END]);
    const lits = Buffer.concat(this.lits);
    const diffs = Buffer.from(this.diffs);
    const frame: number[] = [];
    pushVarint(frame, ops.length);
    pushVarint(frame, lits.length);
    if (version === DELTA_FORMAT_V2) pushVarint(frame, diffs.length);
    const body = brotliCompressSync(Buffer.concat([Buffer.from(frame), ops, lits, diffs]));
    const pre = Buffer.alloc(16);
    DELTA_MAGIC.copy(pre);
    pre.writeUInt32BE(version, 8);
    pre.writeUInt32BE(header.length, 12);
    return { delta: Buffer.concat([pre, header, body]), target };
  }
}

const decode = (delta: Buffer) => decodeInPieces(delta, dir);

async function decodeCode(delta: Buffer): Promise<string> {
  try {
    await decode(delta);
  } catch (e) {
    expect(e).toBeInstanceOf(DeltaError);
    return `${(e as DeltaError).code}: ${(e as DeltaError).message}`;
  }
  return "decoded";
}

/** `src` with every `step`-th byte changed (as a rebuilt binary's shifted addresses). */
function edited(src: Buffer, step: number): Buffer {
  const b = Buffer.from(src);
  for (let i = 0; i < b.length; i += step) b[i] = (b[i]! + 1 + (i % 7)) & 0xff;
  return b;
}

/** A DIFF op's tag, source and offset as raw op bytes. */
function diffOp(len: number, sel: number, offDelta: number): number[] {
  const ops: number[] = [];
  pushVarint(ops, len * 4 + Op.DIFF);
  pushVarint(ops, sel);
  pushVarint(ops, zigzag(offDelta));
  return ops;
}

describe("keel-delta format 2: DIFF ops", () => {
  it("rebuilds parent bytes plus differences exactly, across cache blocks and direct reads", async () => {
    const a = parent[0]!;
    const b = parent[1]!;
    const d = new Builder()
      .raw([{ diff: [0, 4000, 200], want: edited(a.subarray(4000, 4200), 5) }]) // crosses a 4 KiB block
      .raw([{ diff: [0, 9_900, 100] }]) // all zeros, to the file's last byte
      .raw([
        Buffer.from("lit"),
        { copy: [1, 10, 50] },
        { diff: [1, 60, 1000], want: edited(b.subarray(60, 1060), 4) },
      ])
      .raw([{ diff: [1, 100_000, 70_000], want: edited(b.subarray(100_000, 170_000), 8) }]) // ≥ 64 KiB: a direct read
      .raw([{ diff: [0, 0, 16], want: Buffer.alloc(16, 0xff) }, { diff: [1, 50, 10] }]) // every byte differs; then back in b
      .build();
    expect((await decode(d.delta)).equals(d.target)).toBe(true);
  });

  it("refuses DIFFs outside the parent file, from an unlisted file, or with no previous copy", async () => {
    const bad = (ops: number[], diffs: number[], len = 10) =>
      decodeCode(new Builder().rawOps(len, ops, diffs).build().delta);
    const tail = [10, 0]; // one run: 10 zeros
    expect(await bad(diffOp(10, 1, 9_995), tail)).toMatch(/^CORRUPT: .*outside its parent files/); // past a.bin's end
    expect(await bad(diffOp(10, 1, -1), tail)).toMatch(/^CORRUPT: .*outside its parent files/); // before its start
    expect(await bad(diffOp(10, 3, 0), tail)).toMatch(/^CORRUPT: .*does not list/); // file index 2 of 2
    expect(await bad(diffOp(10, 2 ** 40, 0), tail)).toMatch(/^CORRUPT: .*does not list/);
    expect(await bad(diffOp(10, 0, 0), tail)).toMatch(/^CORRUPT: .*does not list/); // "previous file": none yet
    expect(await bad([Op.DIFF, 1, 0], [])).toMatch(/^CORRUPT: .*bad length/); // a DIFF of 0 bytes
    expect(await bad(diffOp(11, 1, 0), [11, 0])).toMatch(/^CORRUPT: .*bad length/); // longer than its record
  });

  it("refuses difference runs that do not cover the op exactly, or that read past the section", async () => {
    const bad = (diffs: number[]) =>
      decodeCode(new Builder().rawOps(10, diffOp(10, 1, 0), diffs, parent[0]!.subarray(0, 10)).build().delta);
    expect(await bad([0, 0])).toMatch(/^CORRUPT: .*bad difference run/); // an empty run: no progress
    expect(await bad([9, 2, 1, 1])).toMatch(/^CORRUPT: .*bad difference run/); // past the op's end
    expect(await bad([0, 11, ...Array<number>(11).fill(1)])).toMatch(/^CORRUPT: .*bad difference run/);
    expect(await bad([5, 5, 1, 1])).toMatch(/^CORRUPT: .*bad difference run/); // 5 bytes promised, 2 present
    expect(await bad([5])).toMatch(/^CORRUPT: .*ends inside a number/); // the section ends mid-run
    expect(await bad([10, 0, 7])).toMatch(/^CORRUPT: .*unused difference bytes/); // left-over differences
    expect(await bad([10, 0])).toBe("decoded"); // the well-formed record these vary
  });

  it("refuses a DIFF in a format-1 delta, and never writes past the header's target size", async () => {
    const v1 = new Builder().rawOps(10, diffOp(10, 1, 0)).build(DELTA_FORMAT_VERSION);
    expect(await decodeCode(v1.delta)).toMatch(/^CORRUPT: unknown delta data op 3/);
    const short = new Builder().raw([{ diff: [1, 0, 5000], want: edited(parent[1]!.subarray(0, 5000), 3) }]);
    expect(await decodeCode(short.build(DELTA_FORMAT_V2, 4999).delta)).toMatch(
      /^CORRUPT: .*more than the 4999 bytes/,
    );
  });

  it("refuses a frame whose three sections pass the frame limit", async () => {
    const frame: number[] = [];
    pushVarint(frame, 1);
    pushVarint(frame, 0);
    pushVarint(frame, 16 * 1024 * 1024); // ops + lits + diffs > MAX_FRAME_BYTES
    const header = Buffer.from(
      JSON.stringify({
        target: { bytes: 0, sha256: "0".repeat(64) },
        parent: { files: [] },
        encoder: "test",
      }),
    );
    const pre = Buffer.alloc(16);
    DELTA_MAGIC.copy(pre);
    pre.writeUInt32BE(DELTA_FORMAT_V2, 8);
    pre.writeUInt32BE(header.length, 12);
    const delta = Buffer.concat([pre, header, brotliCompressSync(Buffer.from(frame))]);
    expect(await decodeCode(delta)).toMatch(/^TOO_LARGE/);
  });
});
