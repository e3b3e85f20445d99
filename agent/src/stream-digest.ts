// Digests of a stream file as the manifest records them: byte count, SHA-256, per-chunk SHA-256.
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

export function digestStreamFile(path: string, chunkSize: number): { bytes: number; sha256: string; chunks: string[] } {
  const whole = createHash("sha256");
  const chunks: string[] = [];
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, 1024 * 1024));
  const fd = openSync(path, "r");
  let bytes = 0;
  try {
    let chunk = createHash("sha256");
    let inChunk = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, chunkSize - inChunk), null);
      if (n === 0) break;
      const piece = buf.subarray(0, n);
      whole.update(piece);
      chunk.update(piece);
      inChunk += n;
      bytes += n;
      if (inChunk === chunkSize) {
        chunks.push(chunk.digest("hex"));
        chunk = createHash("sha256");
        inChunk = 0;
      }
    }
    if (inChunk > 0) chunks.push(chunk.digest("hex"));
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: whole.digest("hex"), chunks };
}
