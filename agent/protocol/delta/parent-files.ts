// Host side: the parent files a delta copies from, checked against the header before anything is
// decoded, then read with positional reads through a small cache of open handles.
import { createHash } from "node:crypto";
import { constants as fsc } from "node:fs";
import { open, realpath, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { DeltaError, type DeltaParentFile } from "./format";

const MAX_OPEN = 64;
const HASH_CHUNK = 1 << 20;
const BLOCK = 64 * 1024;
const MAX_BLOCKS = 128; // 8 MiB of parent data


export class ParentFiles {
  private readonly handles = new Map<number, FileHandle>();
  private readonly blocks = new Map<string, Buffer>();
  /** Files whose path was checked for symlinks by verify(). */
  private readonly checked = new Set<number>();
  private root = "";

  constructor(
    private readonly parentDir: string,
    readonly files: DeltaParentFile[],
  ) {}

  private async openFile(i: number): Promise<FileHandle> {
    const f = this.files[i]!;
    const full = join(this.parentDir, f.path);
    const mismatch = (why: string, cause?: unknown) =>
      new DeltaError("PARENT_MISMATCH", `parent file ${f.path} ${why} in ${this.parentDir}`, { cause });
    try {
      if (!this.checked.has(i)) {
        this.root ||= await realpath(this.parentDir);
        // No symlink anywhere on the way: the file must be where the header says, inside the parent tree.
        if ((await realpath(full)) !== join(this.root, f.path)) throw mismatch("is reached through a symlink");
        this.checked.add(i);
      }
      const fh = await open(full, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw mismatch("is not a regular file");
      }
      if (st.size !== f.bytes) {
        await fh.close();
        throw mismatch(`has ${st.size} bytes, the delta expects ${f.bytes}`);
      }
      return fh;
    } catch (e) {
      if (e instanceof DeltaError) throw e;
      throw mismatch((e as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : "cannot be opened", e);
    }
  }

  /** Checks size and SHA-256 of every file the delta refers to; PARENT_MISMATCH on the first that differs. */
  async verify(): Promise<void> {
    const buf = Buffer.allocUnsafe(HASH_CHUNK);
    for (let i = 0; i < this.files.length; i++) {
      const f = this.files[i]!;
      const fh = await this.openFile(i);
      try {
        const h = createHash("sha256");
        for (let pos = 0; pos < f.bytes; ) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(HASH_CHUNK, f.bytes - pos), pos);
          if (bytesRead === 0) break;
          h.update(buf.subarray(0, bytesRead));
          pos += bytesRead;
        }
        if (h.digest("hex") !== f.sha256)
          throw new DeltaError("PARENT_MISMATCH", `parent file ${f.path} in ${this.parentDir} differs from the one the delta was made against (SHA-256)`);
      } finally {
        await fh.close();
      }
    }
  }

  /**
   * Reads `len` bytes of file `i` at `pos` into `buf` at `at`, through a small cache of 64 KiB
   * blocks: a changed file turns into many short copies from nearby offsets.
   */
  async read(i: number, buf: Buffer, at: number, len: number, pos: number): Promise<void> {
    while (len > 0) {
      const bn = Math.floor(pos / BLOCK);
      const key = `${i}:${bn}`;
      let block = this.blocks.get(key);
      if (block) {
        this.blocks.delete(key); // re-inserted below: Map order is the LRU order
      } else {
        // Reuse the evicted block's memory: a fixed 8 MiB, no churn for the garbage collector.
        let spare: Buffer | undefined;
        if (this.blocks.size >= MAX_BLOCKS) {
          const [oldest, old] = this.blocks.entries().next().value as [string, Buffer];
          this.blocks.delete(oldest);
          spare = Buffer.from(old.buffer, old.byteOffset, BLOCK);
        }
        block = await this.readBlock(i, bn, spare ?? Buffer.allocUnsafeSlow(BLOCK));
      }
      this.blocks.set(key, block);
      const off = pos - bn * BLOCK;
      const n = Math.min(len, block.length - off);
      if (n <= 0) throw new DeltaError("PARENT_MISMATCH", `parent file ${this.files[i]!.path} ended early while decoding`);
      block.copy(buf, at, off, off + n);
      at += n;
      pos += n;
      len -= n;
    }
  }

  private async readBlock(i: number, bn: number, block: Buffer): Promise<Buffer> {
    let fh = this.handles.get(i);
    if (fh) {
      this.handles.delete(i);
    } else {
      fh = await this.openFile(i);
      if (this.handles.size >= MAX_OPEN) {
        const [oldest, old] = this.handles.entries().next().value as [number, FileHandle];
        this.handles.delete(oldest);
        await old.close();
      }
    }
    this.handles.set(i, fh);
    const want = Math.min(BLOCK, this.files[i]!.bytes - bn * BLOCK);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(block, got, want - got, bn * BLOCK + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return block.subarray(0, got);
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    this.blocks.clear();
    await Promise.allSettled(all.map((h) => h.close()));
  }
}
