// Encoder side (console): the parent tree as a dictionary, indexed by a rolling hash, and the
// matcher that turns target bytes into COPY/LIT data ops against it. See README.md and
// docs/decisions/0005-delta-encoding.md for why it looks like this.
import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Op, pushVarint, zigzag, type DeltaParentFile } from "./format";

const PRIME = 0x01000193;
/** A continuation of the previous copy shorter than this is written as literals instead. */
const MIN_CONTINUE = 6;
/** Hash table probe window, and how many parent blocks with one value it keeps. */
const PROBES = 16;
const MAX_SAME = 6;

interface ParentFile {
  path: string;
  data: Buffer;
  /** Index in the header's file list once the delta refers to it, else -1. */
  ref: number;
  /** Where the last copy from this file ended (the base of the next copy's offset). */
  end: number;
}

/** Regular files of `dir`, sorted by relative path; symlinks and special files are not followed. */
export async function listParentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  }
  await walk("");
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Where the data ops of one command go. */
export interface OpSink {
  ops: number[];
  lits: Buffer[];
  litBytes: number;
}

export class Dictionary {
  readonly files: ParentFile[] = [];
  readonly referenced: ParentFile[] = [];
  private keys = new Uint32Array(0);
  private slotFile = new Uint32Array(0); // file index + 1, 0 = empty
  private slotOff = new Uint32Array(0);
  private bits = 0;
  private block = 32;
  private powB = 1;
  private lastFile = -1;
  copied = 0;
  literal = 0;

  static async load(parentDir: string): Promise<Dictionary> {
    const d = new Dictionary();
    for (const path of await listParentFiles(parentDir)) {
      const full = join(parentDir, path);
      // Names that do not survive a UTF-8 round trip cannot be named in the header: leave them out.
      if (!Buffer.from(path).equals(Buffer.from(Buffer.from(path).toString()))) continue;
      const st = await lstat(full);
      if (!st.isFile() || st.size === 0 || st.size >= 2 ** 32) continue;
      d.files.push({ path, data: await readFile(full), ref: -1, end: 0 });
    }
    d.buildIndex();
    return d;
  }

  private buildIndex(): void {
    const total = this.files.reduce((s, f) => s + f.data.length, 0);
    // Keep the table near 16M entries at most: larger parents get a coarser stride.
    this.block = 32;
    while (total / this.block > 16 * 1024 * 1024) this.block *= 2;
    const B = this.block;
    this.powB = 1;
    for (let i = 0; i < B; i++) this.powB = Math.imul(this.powB, PRIME);
    const entries = Math.max(1024, Math.ceil(total / B));
    this.bits = Math.min(26, Math.ceil(Math.log2(entries * 2)));
    const size = 1 << this.bits;
    this.keys = new Uint32Array(size);
    this.slotFile = new Uint32Array(size);
    this.slotOff = new Uint32Array(size);
    const mask = size - 1;
    for (let fi = 0; fi < this.files.length; fi++) {
      const data = this.files[fi]!.data;
      for (let off = 0; off + B <= data.length; off += B) {
        let h = 0;
        for (let i = off; i < off + B; i++) h = (Math.imul(h, PRIME) + data[i]!) | 0;
        let s = Math.imul(h, 0x9e3779b1) >>> (32 - this.bits);
        // Linear probing; a block value is kept at most MAX_SAME times (first ones win), so that a
        // match can prefer the file and place the previous copy came from.
        let same = 0;
        for (let probe = 0; probe < PROBES && same < MAX_SAME; probe++) {
          if (this.slotFile[s] === 0) {
            this.keys[s] = h >>> 0;
            this.slotFile[s] = fi + 1;
            this.slotOff[s] = off;
            break;
          }
          if (this.keys[s] === h >>> 0) same++;
          s = (s + 1) & mask;
        }
      }
    }
  }

  /** Best parent match for data[pos, pos+B): same file near the previous copy first, else longest. */
  private bestMatch(
    h: number,
    data: Buffer,
    pos: number,
    litStart: number,
  ): { fi: number; off: number; len: number } | null {
    const mask = (1 << this.bits) - 1;
    const expected = this.lastFile >= 0 ? this.files[this.lastFile]!.end + (pos - litStart) : 0;
    let best: { fi: number; off: number; len: number } | null = null;
    let bestNear = false;
    let s = Math.imul(h, 0x9e3779b1) >>> (32 - this.bits);
    for (let probe = 0; probe < PROBES && this.slotFile[s] !== 0; probe++, s = (s + 1) & mask) {
      if (this.keys[s] !== h >>> 0) continue;
      const fi = this.slotFile[s]! - 1;
      const off = this.slotOff[s]!;
      const src = this.files[fi]!.data;
      const m = matchForward(data, pos, src, off);
      if (m < this.block) continue;
      const near = fi === this.lastFile;
      const better =
        !best ||
        (near && !bestNear) ||
        (near === bestNear &&
          (near ? Math.abs(off - expected) < Math.abs(best.off - expected) : m > best.len));
      if (better) {
        best = { fi, off, len: m };
        bestNear = near;
      }
    }
    return best;
  }

  /** The header's file list: only files a COPY refers to, with their digests. */
  parentFiles(): DeltaParentFile[] {
    return this.referenced.map((f) => ({
      path: f.path,
      bytes: f.data.length,
      sha256: createHash("sha256").update(f.data).digest("hex"),
    }));
  }

  private emitLit(sink: OpSink, data: Buffer, from: number, to: number): void {
    if (to <= from) return;
    pushVarint(sink.ops, (to - from) * 4 + Op.LIT);
    sink.lits.push(data.subarray(from, to));
    sink.litBytes += to - from;
    this.literal += to - from;
  }

  private emitCopy(sink: OpSink, fi: number, off: number, len: number): void {
    const f = this.files[fi]!;
    if (fi === this.lastFile) {
      pushVarint(sink.ops, len * 4 + Op.COPY_SAME);
    } else {
      if (f.ref < 0) {
        f.ref = this.referenced.length;
        this.referenced.push(f);
      }
      pushVarint(sink.ops, len * 4 + Op.COPY_FILE);
      pushVarint(sink.ops, f.ref);
    }
    // Offsets are relative to where the previous copy from the same file ended: small numbers.
    pushVarint(sink.ops, zigzag(off - f.end));
    f.end = off + len;
    this.lastFile = fi;
    this.copied += len;
  }

  /** Emits data ops that rebuild `data` exactly: copies from the parent where it matches, literals elsewhere. */
  encode(sink: OpSink, data: Buffer): void {
    const n = data.length;
    const B = this.block;
    let pos = 0;
    let litStart = 0;
    let h = 0;
    let hashAt = -2; // position whose window `h` covers; -2 = none (pos − 1 is never −2)
    while (pos < n) {
      if (this.lastFile >= 0) {
        const { data: src, end } = this.files[this.lastFile]!;
        const exp = end + (pos - litStart);
        if (exp < src.length && src[exp] === data[pos]) {
          const m = matchForward(data, pos, src, exp);
          if (m >= MIN_CONTINUE) {
            this.emitLit(sink, data, litStart, pos);
            this.emitCopy(sink, this.lastFile, exp, m);
            pos += m;
            litStart = pos;
            hashAt = -2;
            continue;
          }
        }
      }
      if (pos + B > n) {
        pos++;
        continue;
      }
      if (hashAt === pos - 1) {
        // Roll the window one byte: h·P + in − out·P^B.
        h = (Math.imul(h, PRIME) + data[pos + B - 1]! - Math.imul(data[pos - 1]!, this.powB)) | 0;
      } else {
        h = 0;
        for (let i = pos; i < pos + B; i++) h = (Math.imul(h, PRIME) + data[i]!) | 0;
      }
      hashAt = pos;
      const match = this.bestMatch(h, data, pos, litStart);
      if (match) {
        const { fi, off, len: m } = match;
        const src = this.files[fi]!.data;
        let back = 0;
        while (pos - back > litStart && off - back > 0 && data[pos - back - 1] === src[off - back - 1])
          back++;
        this.emitLit(sink, data, litStart, pos - back);
        this.emitCopy(sink, fi, off - back, m + back);
        pos += m;
        litStart = pos;
        hashAt = -2;
        continue;
      }
      pos++;
    }
    this.emitLit(sink, data, litStart, n);
  }
}

function matchForward(a: Buffer, ai: number, b: Buffer, bi: number): number {
  const max = Math.min(a.length - ai, b.length - bi);
  let m = 0;
  while (m < max && a[ai + m] === b[bi + m]) m++;
  return m;
}
