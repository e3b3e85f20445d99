// Digests of a stream as the manifest records them: byte count, SHA-256, per-chunk SHA-256 —
// computed in one pass by StreamDigester, which the builder (digestStreamFile) and the receiving
// side's verifier (store/stage.ts; chunk digests only, decision 0010) share.
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

/** Feeds bytes in order; reports each chunk's SHA-256 as soon as the chunk is complete. */
export class StreamDigester {
  private readonly whole: Hash | null;
  private chunk = createHash("sha256");
  private inChunk = 0;
  private index = 0;
  /** Bytes fed so far. */
  bytes = 0;

  constructor(
    private readonly chunkSize: number,
    private readonly onChunk: (sha256: string, index: number) => void,
    /** Every piece, in order (a piece never spans two chunks). */
    private readonly onPiece?: (piece: Buffer) => void,
    /** false: chunk digests only (finish() then returns ""). */
    withWhole = true,
  ) {
    this.whole = withWhole ? createHash("sha256") : null;
  }

  update(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      const take = Math.min(buf.length - off, this.chunkSize - this.inChunk);
      const piece = off === 0 && take === buf.length ? buf : buf.subarray(off, off + take);
      this.chunk.update(piece);
      this.whole?.update(piece);
      this.onPiece?.(piece);
      off += take;
      this.inChunk += take;
      this.bytes += take;
      if (this.inChunk === this.chunkSize) this.endChunk();
    }
  }

  /** Chunks completed so far. */
  get chunks(): number {
    return this.index;
  }

  /** Ends the last, partial chunk (reported like the others) and returns the whole-stream SHA-256 (if computed). */
  finish(): string {
    if (this.inChunk > 0) this.endChunk();
    return this.whole?.digest("hex") ?? "";
  }

  private endChunk(): void {
    const hex = this.chunk.digest("hex");
    this.chunk = createHash("sha256");
    this.inChunk = 0;
    this.onChunk(hex, this.index++);
  }
}

export function digestStreamFile(
  path: string,
  chunkSize: number,
): { bytes: number; sha256: string; chunks: string[] } {
  const chunks: string[] = [];
  const digester = new StreamDigester(chunkSize, (hex) => chunks.push(hex));
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, 1024 * 1024));
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      digester.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const sha256 = digester.finish();
  return { bytes: digester.bytes, sha256, chunks };
}
