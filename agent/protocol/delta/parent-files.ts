// Host side: the parent files a delta copies from. check() (before anything is decoded) finds each
// one where the header says, reached through no symlink, a regular file of the declared size;
// findDigestMismatch() compares their SHA-256 with the header's. Copies are read with synchronous
// positional reads (from the page cache a read(2) costs less than a thread-pool round trip) through
// a CLOCK cache of 4 KiB parent blocks: next's delta makes 685,000 copies of 195 bytes on average,
// scattered over 3,700 files; 12 MiB of blocks serve about 85 % of them without a read (decision 0021).
// The blocks a copy misses in a row are read with one pread, and up to 4,096 files stay open
// (a quarter of the process's limit at most; decision 0038).
import { createHash } from "node:crypto";
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { DeltaError, copyBytes, type DeltaParentFile } from "./format";

/**
 * Open parent files kept (descriptors only; Node raises the soft limit to the hard one): a quarter
 * of the process's limit, between MIN_OPEN and MAX_OPEN, so that the rest of the agent keeps
 * descriptors to work with. next's delta copies from 3,720 files: with 512 kept they were opened
 * 11,200 times. An EMFILE all the same halves the number kept (down to MIN_OPEN).
 */
const MAX_OPEN = 4096;
const MIN_OPEN = 16;

/** How many parent files a decode keeps open: see MAX_OPEN. */
function openLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) return Math.max(MIN_OPEN, Math.min(MAX_OPEN, Math.floor(Number(m[1]) / 4)));
  } catch {
    // not Linux: the old fixed number
  }
  return 512;
}
/** Cached parent block size and count (12 MiB); a copy of BIG bytes or more bypasses the cache. */
const BLOCK = 4096;
const BLOCKS = 3072;
const BIG = 64 * 1024;
/** Blocks read with one pread at most (consecutive blocks a copy misses). */
const RUN = 16;
const HASH_CHUNK = 1 << 20;

export class ParentFiles {
  /**
   * Open descriptors: per file, its descriptor or -1; the files open, evicted in CLOCK order (a
   * use only sets the file's `fdUsed` bit).
   */
  private fds = new Int32Array(0);
  private fdUsed = new Uint8Array(0);
  private readonly openList: number[] = [];
  private fdHand = 0;
  /**
   * Cached blocks: file, block → slot in `mem`; a slot holds BLOCK bytes, `lens` of them valid. Evicted in
   * CLOCK order (a hit only sets its slot's `used` bit: no allocation on the hot path).
   */
  private readonly slots: (Map<number, number> | undefined)[] = []; // per file: block number → slot (small integers: no allocation)
  private filled = 0;
  /**
   * One memory for the blocks and, in front of them, the caller's output buffer (`output`): a
   * copy from a block into it is a copyWithin, which allocates nothing (Buffer#copy makes a view
   * per call).
   */
  private readonly arena: Uint8Array;
  private readonly mem: Buffer;
  /** outputBytes bytes the caller writes decoded output into (read() copies into it cheaply). */
  readonly output: Buffer;
  private readonly lens = new Int32Array(BLOCKS);
  private readonly slotFile = new Int32Array(BLOCKS);
  private readonly slotBlock = new Float64Array(BLOCKS);
  private readonly used = new Uint8Array(BLOCKS);
  private hand = 0;
  /** Descriptors kept open at most: openLimit(), less after an EMFILE. */
  private maxOpen = openLimit();
  /** Consecutive missing blocks of one copy are read here at once, then go to their slots. */
  private readonly run = Buffer.allocUnsafeSlow(BLOCK * RUN);
  /** Files, and directories inside the parent, checked to be no symlink. */
  private readonly checked = new Set<number>();
  private readonly dirs = new Set<string>();

  constructor(
    private readonly parentDir: string,
    readonly files: DeltaParentFile[],
    outputBytes = 0,
  ) {
    const ab = new ArrayBuffer(outputBytes + BLOCK * BLOCKS);
    this.arena = new Uint8Array(ab);
    this.output = Buffer.from(ab, 0, outputBytes);
    this.mem = Buffer.from(ab, outputBytes, BLOCK * BLOCKS);
  }

  private mismatch(i: number, why: string, cause?: unknown): DeltaError {
    return new DeltaError(
      "PARENT_MISMATCH",
      `parent file ${this.files[i]!.path} ${why} in ${this.parentDir}`,
      { cause },
    );
  }

  /** No symlink on the way to file i: each directory inside the parent is lstat'ed once. */
  private checkPath(i: number): void {
    const parts = this.files[i]!.path.split("/");
    let dir = "";
    for (let k = 0; k < parts.length - 1; k++) {
      dir = dir ? `${dir}/${parts[k]}` : parts[k]!;
      if (this.dirs.has(dir)) continue;
      const st = lstatSync(join(this.parentDir, dir));
      if (st.isSymbolicLink()) throw this.mismatch(i, `is reached through a symlink (${dir})`);
      if (!st.isDirectory()) throw this.mismatch(i, `is reached through ${dir}, which is not a directory`);
      this.dirs.add(dir);
    }
    this.checked.add(i);
  }

  /** Opens file i read-only: never through a symlink, a regular file of the declared size. */
  private openFile(i: number): number {
    const f = this.files[i]!;
    let fd = -1;
    try {
      if (!this.checked.has(i)) this.checkPath(i);
      // O_NOFOLLOW: the file itself is no symlink either (ELOOP).
      fd = openSync(join(this.parentDir, f.path), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      const st = fstatSync(fd);
      if (!st.isFile()) throw this.mismatch(i, "is not a regular file");
      if (st.size !== f.bytes) throw this.mismatch(i, `has ${st.size} bytes, the delta expects ${f.bytes}`);
      return fd;
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      if (e instanceof DeltaError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw this.mismatch(
        i,
        code === "ENOENT" ? "is missing" : code === "ELOOP" ? "is a symlink" : "cannot be opened",
        e,
      );
    }
  }

  /** Like openFile without opening: lstat (no symlink followed) says type and size. */
  private checkFile(i: number): void {
    const f = this.files[i]!;
    try {
      if (!this.checked.has(i)) this.checkPath(i);
      const st = lstatSync(join(this.parentDir, f.path));
      if (st.isSymbolicLink()) throw this.mismatch(i, "is a symlink");
      if (!st.isFile()) throw this.mismatch(i, "is not a regular file");
      if (st.size !== f.bytes) throw this.mismatch(i, `has ${st.size} bytes, the delta expects ${f.bytes}`);
    } catch (e) {
      if (e instanceof DeltaError) throw e;
      throw this.mismatch(
        i,
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : "cannot be read",
        e,
      );
    }
  }

  /** Every listed file is there, reached through no symlink, regular, of its size. PARENT_MISMATCH on the first that is not. */
  check(): void {
    for (let i = 0; i < this.files.length; i++) this.checkFile(i);
  }

  /**
   * The first listed file whose SHA-256 differs from the header's (or that check() refuses), as a
   * PARENT_MISMATCH error; null when the parent is the one the delta was made against.
   */
  findDigestMismatch(): DeltaError | null {
    const buf = Buffer.allocUnsafe(HASH_CHUNK);
    for (let i = 0; i < this.files.length; i++) {
      const f = this.files[i]!;
      let fd: number;
      try {
        fd = this.openFile(i);
      } catch (e) {
        if (e instanceof DeltaError) return e;
        throw e;
      }
      try {
        const h = createHash("sha256");
        for (let pos = 0; pos < f.bytes;) {
          const n = readSync(fd, buf, 0, Math.min(HASH_CHUNK, f.bytes - pos), pos);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          pos += n;
        }
        // A compact header (keel-delta-c) carries the digest's first 16 hex digits.
        if (!h.digest("hex").startsWith(f.sha256))
          return this.mismatch(i, "differs from the one the delta was made against (SHA-256)");
      } finally {
        closeSync(fd);
      }
    }
    return null;
  }

  private fd(i: number): number {
    if (this.fds.length !== this.files.length) {
      this.fds = new Int32Array(this.files.length).fill(-1);
      this.fdUsed = new Uint8Array(this.files.length);
    }
    const fd = this.fds[i]!;
    if (fd >= 0) {
      this.fdUsed[i] = 1;
      return fd;
    }
    while (this.openList.length >= this.maxOpen) this.closeOne();
    const opened = this.openKeeping(i);
    this.fds[i] = opened;
    this.fdUsed[i] = 1;
    this.openList.push(i);
    return opened;
  }

  /** Closes the descriptor of a file not used since the hand last passed. */
  private closeOne(): void {
    const list = this.openList;
    for (;;) {
      if (this.fdHand >= list.length) this.fdHand = 0;
      const f = list[this.fdHand]!;
      if (this.fdUsed[f]) {
        this.fdUsed[f] = 0;
        this.fdHand++;
        continue;
      }
      list[this.fdHand] = list[list.length - 1]!;
      list.pop();
      closeSync(this.fds[f]!);
      this.fds[f] = -1;
      return;
    }
  }

  /** openFile; out of descriptors (EMFILE), keep half as many open and try again. */
  private openKeeping(i: number): number {
    for (;;) {
      try {
        return this.openFile(i);
      } catch (e) {
        const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
        if (cause?.code !== "EMFILE" || this.openList.length <= MIN_OPEN) throw e;
        this.maxOpen = Math.max(MIN_OPEN, this.openList.length >> 1);
        while (this.openList.length > this.maxOpen) this.closeOne();
      }
    }
  }

  /** The slot of block b of file i if cached (marked used), else -1. */
  private cached(i: number, b: number): number {
    const slot = this.slots[i]?.get(b);
    if (slot === undefined) return -1;
    this.used[slot] = 1;
    return slot;
  }

  /** A free slot, evicting a block not used since the hand last passed. */
  private freeSlot(): number {
    if (this.filled < BLOCKS) return this.filled++;
    while (this.used[this.hand]) {
      this.used[this.hand] = 0;
      this.hand = (this.hand + 1) % BLOCKS;
    }
    const slot = this.hand;
    this.hand = (this.hand + 1) % BLOCKS;
    this.slots[this.slotFile[slot]!]!.delete(this.slotBlock[slot]!);
    return slot;
  }

  /**
   * Blocks b … b + n − 1 of file i (none cached, all inside the file) read with one pread and
   * cached; the slot of block b.
   */
  private load(i: number, b: number, n: number): number {
    const len = Math.min(n * BLOCK, this.files[i]!.bytes - b * BLOCK);
    const fd = this.fd(i);
    if (n === 1) {
      const slot = this.freeSlot();
      this.readFully(i, fd, this.mem, slot * BLOCK, len, b * BLOCK);
      this.keep(slot, i, b, len);
      return slot;
    }
    this.readFully(i, fd, this.run, 0, len, b * BLOCK);
    let first = -1;
    for (let k = 0; k < n; k++) {
      const slot = this.freeSlot();
      const m = Math.min(BLOCK, len - k * BLOCK);
      this.run.copy(this.mem, slot * BLOCK, k * BLOCK, k * BLOCK + m);
      this.keep(slot, i, b + k, m);
      if (k === 0) first = slot;
    }
    return first;
  }

  private keep(slot: number, i: number, b: number, len: number): void {
    this.lens[slot] = len;
    this.slotFile[slot] = i;
    this.slotBlock[slot] = b;
    this.used[slot] = 1;
    (this.slots[i] ??= new Map()).set(b, slot);
  }

  /** Reads exactly len bytes of file i at pos into buf at at (the caller checked pos + len ≤ size). */
  read(i: number, buf: Buffer, at: number, len: number, pos: number): void {
    if (len >= BIG) {
      this.readFully(i, this.fd(i), buf, at, len, pos);
      return;
    }
    const last = Math.floor((pos + len - 1) / BLOCK);
    while (len > 0) {
      const b = Math.floor(pos / BLOCK);
      let slot = this.cached(i, b);
      if (slot < 0) {
        // The blocks this copy needs next that are not cached either: one read for all of them.
        let run = 1;
        while (b + run <= last && run < RUN && this.slots[i]?.get(b + run) === undefined) run++;
        slot = this.load(i, b, run);
      }
      const off = pos - b * BLOCK;
      const n = Math.min(len, this.lens[slot]! - off);
      if (n <= 0) throw this.mismatch(i, "ended early while decoding");
      if (n >= 64 && buf.buffer === this.arena.buffer) {
        const from = this.mem.byteOffset + slot * BLOCK + off;
        this.arena.copyWithin(buf.byteOffset + at, from, from + n);
      } else {
        copyBytes(this.mem, slot * BLOCK + off, buf, at, n);
      }
      at += n;
      pos += n;
      len -= n;
    }
  }

  private readFully(i: number, fd: number, buf: Buffer, at: number, len: number, pos: number): void {
    while (len > 0) {
      const n = readSync(fd, buf, at, len, pos);
      if (n === 0) throw this.mismatch(i, "ended early while decoding");
      at += n;
      pos += n;
      len -= n;
    }
  }

  close(): void {
    for (const f of this.openList) closeSync(this.fds[f]!);
    this.openList.length = 0;
    this.fds.fill(-1);
    this.fdUsed.fill(0);
    this.slots.length = 0;
    this.filled = 0;
    this.used.fill(0);
    this.hand = 0;
  }
}
