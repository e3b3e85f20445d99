// Pulls exact byte counts out of an async stream of Buffers (a Readable, a brotli decoder).
import { DeltaError } from "./format";

export class ByteReader {
  private chunks: Buffer[] = [];
  private avail = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer | string>;
  /** Reused buffers for readExactReused (a frame's ops, its literals): joined pieces go there, not into a new buffer each time. */
  private readonly scratch: Buffer[] = [];

  constructor(
    source: AsyncIterable<Buffer | string>,
    private readonly what: string,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Buffers at least `n` bytes if the stream has them; false when it ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.avail < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const b = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
      if (b.length > 0) {
        this.chunks.push(b);
        this.avail += b.length;
      }
    }
    return this.avail >= n;
  }

  private take(n: number, slot = -1): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = slot < 0 ? Buffer.allocUnsafe(n) : this.scratchFor(slot, n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.avail -= n;
    return out;
  }

  /** Exactly `n` bytes, or DeltaError TRUNCATED. */
  async readExact(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw new DeltaError("TRUNCATED", `${this.what} ended early`);
    return this.take(n);
  }

  /**
   * Exactly `n` bytes like readExact, valid only until the next call with the same slot: bytes
   * that span the source's pieces are joined in a buffer kept for that slot. The decoder's frames
   * (up to MAX_FRAME_BYTES each, ≈ 25 MB for next's delta) then leave no garbage behind.
   */
  async readExactReused(n: number, slot: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw new DeltaError("TRUNCATED", `${this.what} ended early`);
    return this.take(n, slot);
  }

  private scratchFor(slot: number, n: number): Buffer {
    let s = this.scratch[slot];
    if (!s || s.length < n) s = this.scratch[slot] = Buffer.allocUnsafeSlow(Math.ceil(n / 65536) * 65536);
    return s.subarray(0, n);
  }

  /** Up to `n` bytes; fewer only at the end of the stream. */
  async readUpTo(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.avail));
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async readVarint(): Promise<number> {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = (await this.readExact(1))[0]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
      if (mul > 2 ** 49) throw new DeltaError("CORRUPT", `${this.what} holds an oversized number`);
    }
  }

  /** What is still buffered plus the rest of the source, for handing the stream on. */
  async *rest(): AsyncGenerator<Buffer> {
    const held = this.chunks;
    this.chunks = [];
    this.avail = 0;
    yield* held;
    if (this.ended) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    }
  }
}
