// Console side: the parent tree's bytes as the encoder reads them — on demand, with synchronous
// positional reads (from the page cache a pread costs microseconds) through a CLOCK cache of
// 32 KiB pages, so that the encoder's memory does not grow with the parent (decision 0031).
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";

const PAGE_SHIFT = 15;
const PAGE = 1 << PAGE_SHIFT;
/** Open parent files kept (descriptors only). */
const MAX_OPEN = 256;

export class ParentPages {
  /** Open descriptors; Map order is the LRU order (re-inserted on use). */
  private readonly open = new Map<number, number>();
  /** Per file: page number → slot (small integers: no allocation on a hit). */
  private readonly slots: (Map<number, number> | undefined)[] = [];
  private readonly mem: Buffer;
  private readonly lens: Int32Array;
  private readonly slotFile: Int32Array;
  private readonly slotPage: Int32Array;
  private readonly used: Uint8Array;
  private filled = 0;
  private hand = 0;
  /** Set by locate(): the end (exclusive) in `mem` of the valid bytes of the page just located. */
  private limit = 0;
  reads = 0;

  constructor(
    private readonly root: string,
    private readonly paths: readonly string[],
    private readonly sizes: readonly number[],
    cacheBytes = 32 * 1024 * 1024,
  ) {
    const n = Math.max(4, Math.floor(cacheBytes / PAGE));
    this.mem = Buffer.allocUnsafeSlow(n * PAGE);
    this.lens = new Int32Array(n);
    this.slotFile = new Int32Array(n).fill(-1);
    this.slotPage = new Int32Array(n);
    this.used = new Uint8Array(n);
  }

  private fd(fi: number): number {
    const have = this.open.get(fi);
    if (have !== undefined) {
      this.open.delete(fi);
      this.open.set(fi, have);
      return have;
    }
    if (this.open.size >= MAX_OPEN) {
      const [oldest, fd] = this.open.entries().next().value as [number, number];
      this.open.delete(oldest);
      closeSync(fd);
    }
    const path = join(this.root, this.paths[fi]!);
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== this.sizes[fi]) {
      closeSync(fd);
      throw new Error(
        `parent file ${path} changed while the delta was encoded (the parent must be read-only)`,
      );
    }
    this.open.set(fi, fd);
    return fd;
  }

  /** Index in `mem` of byte `off` of file fi (its page read if not cached); sets `limit`. */
  private locate(fi: number, off: number): number {
    const page = off >>> PAGE_SHIFT;
    let map = this.slots[fi];
    if (!map) map = this.slots[fi] = new Map();
    let slot = map.get(page);
    if (slot === undefined) {
      slot = this.victim();
      const len = Math.min(PAGE, this.sizes[fi]! - page * PAGE);
      const got = readSync(this.fd(fi), this.mem, slot * PAGE, len, page * PAGE);
      if (got !== len)
        throw new Error(
          `parent file ${join(this.root, this.paths[fi]!)} is shorter than when it was indexed`,
        );
      this.reads++;
      this.lens[slot] = len;
      this.slotFile[slot] = fi;
      this.slotPage[slot] = page;
      map.set(page, slot);
    }
    this.used[slot] = 1;
    this.limit = slot * PAGE + this.lens[slot]!;
    return slot * PAGE + (off & (PAGE - 1));
  }

  /** A free slot, or the next one in CLOCK order whose page was not used since the hand last passed. */
  private victim(): number {
    if (this.filled < this.lens.length) return this.filled++;
    for (;;) {
      const s = this.hand;
      this.hand = (this.hand + 1) % this.lens.length;
      if (this.used[s]) {
        this.used[s] = 0;
        continue;
      }
      this.slots[this.slotFile[s]!]!.delete(this.slotPage[s]!);
      return s;
    }
  }

  byte(fi: number, off: number): number {
    return this.mem[this.locate(fi, off)]!;
  }

  /** How many bytes of data[pos…] equal file fi from `off` on. */
  matchForward(data: Buffer, pos: number, fi: number, off: number): number {
    const max = Math.min(data.length - pos, this.sizes[fi]! - off);
    const mem = this.mem;
    let m = 0;
    while (m < max) {
      const a = this.locate(fi, off + m);
      const n = Math.min(max - m, this.limit - a);
      const d = pos + m - a;
      let i = a;
      const end = a + n;
      while (i < end && mem[i] === data[i + d]) i++;
      m += i - a;
      if (i < end) break;
    }
    return m;
  }

  /** How many bytes before data[pos] equal those before `off` in file fi, at most `most`. */
  matchBackward(data: Buffer, pos: number, fi: number, off: number, most: number): number {
    const max = Math.min(most, off, pos);
    const mem = this.mem;
    let k = 0;
    while (k < max) {
      const a = this.locate(fi, off - k - 1); // index of the byte just before the run so far
      const start = a - ((off - k - 1) & (PAGE - 1)); // its page's first byte in mem
      let i = a;
      const d = pos - k - 1 - a;
      const stop = Math.max(start, a - (max - k) + 1);
      while (i >= stop && mem[i] === data[i + d]) i--;
      k += a - i;
      if (i >= stop) break;
    }
    return k;
  }

  /** out[at + k] = data[pos + k] − byte (off + k) of file fi, mod 256, for k < n (the file holds them). */
  subtract(data: Buffer, pos: number, fi: number, off: number, n: number, out: Buffer, at: number): void {
    const mem = this.mem;
    for (let k = 0; k < n;) {
      const a = this.locate(fi, off + k);
      const m = Math.min(n - k, this.limit - a);
      for (let i = 0; i < m; i++) out[at + k + i] = (data[pos + k + i]! - mem[a + i]!) & 0xff;
      k += m;
    }
  }

  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }
}
