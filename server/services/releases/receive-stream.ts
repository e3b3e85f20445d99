// Receives an uploaded stream into a temporary file in the data directory while computing what
// the manifest promises about it (length, SHA-256, per-chunk SHA-256), so the bytes are checked
// as they are written and never read twice. The file is what gets moved into the artifact store.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

export type ReceivedStream = { path: string; bytes: number; sha256: string; chunks: string[] };

/** The source held more bytes than allowed. */
export class StreamTooLongError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the stream is longer than ${maxBytes} bytes`);
  }
}

export async function receiveStreamToFile(opts: {
  dataDir: string;
  source: Readable | AsyncIterable<Uint8Array>;
  chunkSize: number;
  /** Refuse (StreamTooLongError) a source longer than this. */
  maxBytes: number;
  onProgress?: (bytes: number) => void;
}): Promise<ReceivedStream> {
  const dir = join(opts.dataDir, "uploads");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `stream-${randomBytes(8).toString("hex")}`);
  const whole = createHash("sha256");
  const chunks: string[] = [];
  let chunk = createHash("sha256");
  let inChunk = 0;
  let bytes = 0;
  const meter = new Transform({
    transform(buf: Buffer, _enc, cb) {
      if (bytes + buf.length > opts.maxBytes) return cb(new StreamTooLongError(opts.maxBytes));
      whole.update(buf);
      bytes += buf.length;
      let off = 0;
      while (off < buf.length) {
        const take = Math.min(opts.chunkSize - inChunk, buf.length - off);
        chunk.update(buf.subarray(off, off + take));
        inChunk += take;
        off += take;
        if (inChunk === opts.chunkSize) {
          chunks.push(chunk.digest("hex"));
          chunk = createHash("sha256");
          inChunk = 0;
        }
      }
      opts.onProgress?.(bytes);
      cb(null, buf);
    },
    flush(cb) {
      if (inChunk > 0) chunks.push(chunk.digest("hex"));
      cb();
    },
  });
  const src = opts.source instanceof Readable ? opts.source : Readable.from(opts.source);
  try {
    await pipeline(src, meter, createWriteStream(path, { flags: "wx", mode: 0o600 }));
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
  return { path, bytes, sha256: whole.digest("hex"), chunks };
}
