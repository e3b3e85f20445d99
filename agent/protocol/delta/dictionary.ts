// Encoder side (console): the parent tree as a dictionary, indexed by a rolling hash, and the
// matcher that turns target bytes into COPY/LIT data ops against it. See README.md and
// docs/decisions/0005-delta-encoding.md for why it looks like this.
import { createHash } from "node:crypto";
import { constants as fsc } from "node:fs";
import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Op, zigzag, type DeltaParentFile } from "./format";
import { ParentPages } from "./parent-pages";

const PRIME = 0x01000193;
/** A continuation of the previous copy shorter than this is written as literals instead. */
const MIN_CONTINUE = 6;
/**
 * Approximate matches (DIFF ops, format 2; decision 0040), bsdiff's rule: a run at one alignment is
 * scored +1 per equal byte and −DIFF_MISS per differing one, and ends where its score peaked; the
 * scan stops once the score is DIFF_STOP below that peak. A run is kept when it spans at least
 * DIFF_MIN bytes and scores at least DIFF_MIN_SCORE; after a failed try at the previous copy's
 * alignment the next one is DIFF_RETRY bytes on.
 */
const DIFF_MISS = 2;
const DIFF_STOP = 24;
const DIFF_MIN = 16;
const DIFF_MIN_SCORE = 8;
const DIFF_RETRY = 32;
/** Zero differences shorter than this between differing bytes stay inside one run. */
const DIFF_GAP = 3;
/** Hash table probe window, and how many parent blocks with one value it keeps. */
const PROBES = 16;
const MAX_SAME = 6;
/**
 * Hash table slots per indexed block (the power of two above is taken). 1 instead of 2 halves the
 * table (next: 64 instead of 128 MiB) for +0.25 % of delta bytes (decision 0031).
 */
const TABLE_SLOTS_PER_ENTRY = 1;
/** The parent is read for indexing this much at a time (a multiple of every block size). */
const READ_CHUNK = 1 << 20;

interface ParentFile {
  path: string;
  size: number;
  sha256: string;
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

/** A growable byte buffer of varints, reused frame after frame (no JS number per byte). */
export class OpBytes {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  varint(n: number): void {
    if (this.length + 10 > this.buf.length) this.grow(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (this.length + n > size) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  /** Appends n bytes for the caller to fill: the buffer and where they start in it. */
  append(n: number): { buf: Buffer; at: number } {
    if (this.length + n > this.buf.length) this.grow(n);
    const at = this.length;
    this.length += n;
    return { buf: this.buf, at };
  }

  /** Appends a copy of src[from, to). */
  put(src: Buffer, from = 0, to = src.length): void {
    const { buf, at } = this.append(to - from);
    src.copy(buf, at, from, to);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Where the data ops of one command go. */
export interface OpSink {
  ops: OpBytes;
  /** The frame's literals, copied (the matcher's input buffers are reused). */
  lits: OpBytes;
  /** The frame's difference section (format 2). */
  diffs: OpBytes;
}

export class Dictionary {
  readonly files: ParentFile[] = [];
  readonly referenced: ParentFile[] = [];
  private pages!: ParentPages;
  private keys = new Uint32Array(0);
  /** Global block number + 1 (0 = empty): file fi's blocks start at firstBlock[fi]. */
  private slotLoc = new Uint32Array(0);
  private firstBlock = new Float64Array(0);
  private bits = 0;
  private block = 32;
  private powB = 1;
  private lastFile = -1;
  /** Format 2: approximate matches become DIFF ops. */
  approx = false;
  /** No approximate match is tried at the previous copy's alignment before this target position. */
  private noDiffBefore = 0;
  copied = 0;
  literal = 0;
  /** Bytes produced by DIFF ops (also counted in `copied`). */
  diffed = 0;
  private diffScratch = Buffer.alloc(0);

  /**
   * Indexes the parent in one streaming pass (one rolling hash per block, the SHA-256 of each file);
   * its bytes are read again only where the matcher compares them (ParentPages). Memory: the hash
   * table, 8 bytes per slot, plus the page cache — not the parent.
   */
  static async load(parentDir: string, cacheBytes?: number): Promise<Dictionary> {
    const d = new Dictionary();
    for (const path of await listParentFiles(parentDir)) {
      // Names that do not survive a UTF-8 round trip cannot be named in the header: leave them out.
      if (!Buffer.from(path).equals(Buffer.from(Buffer.from(path).toString()))) continue;
      const st = await lstat(join(parentDir, path));
      if (!st.isFile() || st.size === 0 || st.size >= 2 ** 32) continue;
      d.files.push({ path, size: st.size, sha256: "", ref: -1, end: 0 });
    }
    d.sizeIndex();
    const buf = Buffer.allocUnsafeSlow(READ_CHUNK);
    for (let fi = 0; fi < d.files.length; fi++) {
      const f = d.files[fi]!;
      const hash = createHash("sha256");
      const fh = await open(join(parentDir, f.path), fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        for (let at = 0; at < f.size;) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(READ_CHUNK, f.size - at), at);
          if (bytesRead === 0) throw new Error(`parent file ${join(parentDir, f.path)} shrank while indexed`);
          const chunk = buf.subarray(0, bytesRead);
          hash.update(chunk);
          d.indexChunk(fi, at, chunk);
          at += bytesRead;
        }
      } finally {
        await fh.close();
      }
      f.sha256 = hash.digest("hex");
    }
    d.pages = new ParentPages(
      parentDir,
      d.files.map((f) => f.path),
      d.files.map((f) => f.size),
      cacheBytes,
    );
    return d;
  }

  close(): void {
    this.pages?.close();
  }

  private sizeIndex(): void {
    const total = this.files.reduce((s, f) => s + f.size, 0);
    // Keep the table near 16M entries at most: larger parents get a coarser stride.
    this.block = 32;
    while (total / this.block > 16 * 1024 * 1024) this.block *= 2;
    const B = this.block;
    this.powB = 1;
    for (let i = 0; i < B; i++) this.powB = Math.imul(this.powB, PRIME);
    this.firstBlock = new Float64Array(this.files.length);
    let blocks = 0;
    for (let fi = 0; fi < this.files.length; fi++) {
      this.firstBlock[fi] = blocks;
      blocks += Math.ceil(this.files[fi]!.size / B);
    }
    if (blocks >= 2 ** 32 - 1) throw new Error(`parent too large to index: ${blocks} blocks of ${B} bytes`);
    const entries = Math.max(1024, Math.ceil(total / B));
    this.bits = Math.min(26, Math.ceil(Math.log2(entries * TABLE_SLOTS_PER_ENTRY)));
    const size = 1 << this.bits;
    this.keys = new Uint32Array(size);
    this.slotLoc = new Uint32Array(size);
  }

  /** Indexes the whole blocks of `chunk`, which starts at `at` (a multiple of the block) in file fi. */
  private indexChunk(fi: number, at: number, chunk: Buffer): void {
    const B = this.block;
    const mask = (1 << this.bits) - 1;
    const base = this.firstBlock[fi]! + at / B + 1;
    for (let off = 0; off + B <= chunk.length; off += B) {
      let h = 0;
      for (let i = off; i < off + B; i++) h = (Math.imul(h, PRIME) + chunk[i]!) | 0;
      let s = Math.imul(h, 0x9e3779b1) >>> (32 - this.bits);
      // Linear probing; a block value is kept at most MAX_SAME times (first ones win), so that a
      // match can prefer the file and place the previous copy came from.
      let same = 0;
      for (let probe = 0; probe < PROBES && same < MAX_SAME; probe++) {
        if (this.slotLoc[s] === 0) {
          this.keys[s] = h >>> 0;
          this.slotLoc[s] = base + off / B;
          break;
        }
        if (this.keys[s] === h >>> 0) same++;
        s = (s + 1) & mask;
      }
    }
  }

  /** The file holding global block `b`. */
  private fileOf(b: number): number {
    const fb = this.firstBlock;
    let lo = 0;
    let hi = fb.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fb[mid]! <= b) lo = mid;
      else hi = mid - 1;
    }
    return lo;
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
    for (let probe = 0; probe < PROBES && this.slotLoc[s] !== 0; probe++, s = (s + 1) & mask) {
      if (this.keys[s] !== h >>> 0) continue;
      const b = this.slotLoc[s]! - 1;
      const fi = this.fileOf(b);
      const off = (b - this.firstBlock[fi]!) * this.block;
      const m = this.pages.matchForward(data, pos, fi, off);
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
    return this.referenced.map((f) => ({ path: f.path, bytes: f.size, sha256: f.sha256 }));
  }

  private emitLit(sink: OpSink, data: Buffer, from: number, to: number): void {
    if (to <= from) return;
    sink.ops.varint((to - from) * 4 + Op.LIT);
    sink.lits.put(data, from, to);
    this.literal += to - from;
  }

  private emitCopy(sink: OpSink, fi: number, off: number, len: number): void {
    const f = this.files[fi]!;
    if (fi === this.lastFile) {
      sink.ops.varint(len * 4 + Op.COPY_SAME);
    } else {
      if (f.ref < 0) {
        f.ref = this.referenced.length;
        this.referenced.push(f);
      }
      sink.ops.varint(len * 4 + Op.COPY_FILE);
      sink.ops.varint(f.ref);
    }
    // Offsets are relative to where the previous copy from the same file ended: small numbers.
    sink.ops.varint(zigzag(off - f.end));
    f.end = off + len;
    this.lastFile = fi;
    this.copied += len;
  }

  /** A DIFF op: data[pos, pos+len) from file fi at `off` plus the bytes' differences (format 2). */
  private emitDiff(sink: OpSink, data: Buffer, pos: number, fi: number, off: number, len: number): void {
    const f = this.files[fi]!;
    sink.ops.varint(len * 4 + Op.DIFF);
    if (fi === this.lastFile) {
      sink.ops.varint(0);
    } else {
      if (f.ref < 0) {
        f.ref = this.referenced.length;
        this.referenced.push(f);
      }
      sink.ops.varint(f.ref + 1);
    }
    sink.ops.varint(zigzag(off - f.end));
    if (this.diffScratch.length < len) this.diffScratch = Buffer.allocUnsafe(Math.max(len, 65536));
    const d = this.diffScratch;
    this.pages.subtract(data, pos, fi, off, len, d, 0);
    // Runs: zeros, then differing bytes up to the next DIFF_GAP zeros (or the end).
    for (let p = 0; p < len;) {
      let q = p;
      while (q < len && d[q] === 0) q++;
      let e = q;
      while (e < len) {
        if (d[e] !== 0) {
          e++;
          continue;
        }
        let r = e;
        while (r < len && d[r] === 0) r++;
        if (r - e >= DIFF_GAP || r === len) break;
        e = r;
      }
      sink.diffs.varint(q - p);
      sink.diffs.varint(e - q);
      const { buf, at } = sink.diffs.append(e - q);
      d.copy(buf, at, q, e);
      p = e;
    }
    f.end = off + len;
    this.lastFile = fi;
    this.copied += len;
    this.diffed += len;
  }

  /**
   * The approximate run of data[pos…] against file fi from `off` on (forward) or of data[…pos)
   * against the bytes before `off` (backward, at most `most` bytes): its length, 0 when too weak.
   */
  private approxRun(data: Buffer, pos: number, fi: number, off: number, backward: boolean, most = 0): number {
    const pages = this.pages;
    const max = backward ? Math.min(most, off, pos) : Math.min(data.length - pos, this.files[fi]!.size - off);
    let p = 0;
    let score = 0;
    let best = 0;
    let bestLen = 0;
    while (p < max) {
      const m = backward
        ? pages.matchBackward(data, pos - p, fi, off - p, max - p)
        : pages.matchForward(data, pos + p, fi, off + p);
      p += m;
      score += m;
      if (score > best) {
        best = score;
        bestLen = p;
      }
      if (p >= max) break;
      p++;
      score -= DIFF_MISS;
      if (score < best - DIFF_STOP) break;
    }
    return bestLen >= DIFF_MIN && best >= DIFF_MIN_SCORE ? bestLen : 0;
  }

  /** Emits data ops that rebuild `data` exactly: copies from the parent where it matches, literals elsewhere. */
  encode(sink: OpSink, data: Buffer): void {
    const n = data.length;
    const B = this.block;
    const pages = this.pages;
    let pos = 0;
    let litStart = 0;
    let h = 0;
    let hashAt = -2; // position whose window `h` covers; -2 = none (pos − 1 is never −2)
    this.noDiffBefore = 0;
    while (pos < n) {
      if (this.lastFile >= 0) {
        const { size, end } = this.files[this.lastFile]!;
        const exp = end + (pos - litStart);
        if (exp < size && pages.byte(this.lastFile, exp) === data[pos]) {
          const m = pages.matchForward(data, pos, this.lastFile, exp);
          if (m >= MIN_CONTINUE) {
            this.emitLit(sink, data, litStart, pos);
            this.emitCopy(sink, this.lastFile, exp, m);
            pos += m;
            litStart = pos;
            hashAt = -2;
            continue;
          }
        }
        if (this.approx && pos >= this.noDiffBefore && exp < size) {
          const d = this.approxRun(data, pos, this.lastFile, exp, false);
          if (d > 0) {
            this.emitLit(sink, data, litStart, pos);
            this.emitDiff(sink, data, pos, this.lastFile, exp, d);
            pos += d;
            litStart = pos;
            hashAt = -2;
            continue;
          }
          this.noDiffBefore = pos + DIFF_RETRY;
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
        const back = pages.matchBackward(data, pos, fi, off, pos - litStart);
        const s = pos - back;
        const d = this.approx ? this.approxRun(data, s, fi, off - back, true, s - litStart) : 0;
        this.emitLit(sink, data, litStart, s - d);
        if (d > 0) this.emitDiff(sink, data, s - d, fi, off - back - d, d);
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
