// Staging and verifying a receive's stream. The stream is written into `.staging/<op>/stream`
// through one file descriptor with positioned writes (so its offset stays 0); verification reads
// it back through the same descriptor (positioned reads), and the unpacker (btrfs receive's stdin)
// gets that very descriptor. Replacing the file by path after verification changes nothing.
// With wire encoding `keel-delta-1` the bytes are decoded against the parent tree while staging;
// verification then runs on the decoded bytes as always.
import { createHash } from "node:crypto";
import { read, write } from "node:fs";
import { Readable, Writable } from "node:stream";
import type { ReleaseManifest, WireEncoding } from "../../protocol";
import { decodeDelta, DeltaError } from "../../protocol/delta/decode";
import { AgentError, isDiskFull } from "../errors";

function pwrite(fd: number, buf: Buffer, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const loop = (off: number) => {
      write(fd, buf, off, buf.length - off, pos + off, (e, n) => {
        if (e) return reject(e);
        if (off + n < buf.length) loop(off + n);
        else resolve();
      });
    };
    loop(0);
  });
}

function pread(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

export interface StageResult {
  /** Bytes that arrived on the wire. */
  wireBytes: number;
  /** Bytes of the stream written to the staging file. */
  bytes: number;
}

function diskFull(e: unknown): AgentError {
  return new AgentError("DISK_FULL", "stage", `no space left in the store while staging the stream: ${(e as Error).message}`);
}

/** Writes the incoming stream into fd (raw, or decoded from keel-delta-1 against deltaParentDir). */
export async function stageStream(opts: {
  fd: number;
  input: AsyncIterable<Buffer>;
  wire: WireEncoding;
  deltaParentDir: string | null;
  manifest: ReleaseManifest;
  progress: (bytes: number) => void;
}): Promise<StageResult> {
  const limit = opts.manifest.stream.bytes;
  let pos = 0;
  let wireBytes = 0;
  const put = async (chunk: Buffer) => {
    if (pos + chunk.length > limit) {
      throw new AgentError("DIGEST_MISMATCH", "stage", `the stream is longer than the ${limit} bytes its manifest declares`);
    }
    try {
      await pwrite(opts.fd, chunk, pos);
    } catch (e) {
      throw isDiskFull(e) ? diskFull(e) : e;
    }
    pos += chunk.length;
    opts.progress(pos);
  };
  if (opts.wire === "raw") {
    for await (const chunk of opts.input) {
      wireBytes += chunk.length;
      await put(chunk);
    }
    return { wireBytes, bytes: pos };
  }
  if (!opts.deltaParentDir) {
    throw new AgentError("BAD_REQUEST", "stage", "wire encoding keel-delta-1 needs a parent version installed on the host");
  }
  const counted = Readable.from(
    (async function* () {
      for await (const chunk of opts.input) {
        wireBytes += chunk.length;
        yield Buffer.from(chunk); // the decoder may keep chunks; the input may reuse its buffer
      }
    })(),
  );
  let writeError: unknown = null;
  const output = new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      put(chunk).then(
        () => cb(),
        (e: unknown) => {
          writeError ??= e;
          cb(e as Error);
        },
      );
    },
  });
  output.on("error", () => undefined);
  try {
    await decodeDelta({ parentDir: opts.deltaParentDir, input: counted, output });
    await new Promise<void>((resolve, reject) => output.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    if (writeError) throw writeError;
    if (e instanceof AgentError) throw e;
    if (isDiskFull(e)) throw diskFull(e);
    if (e instanceof DeltaError) {
      const code = e.code === "PARENT_MISMATCH" ? "PARENT_MISMATCH" : "BAD_STREAM";
      throw new AgentError(code, "stage", `the delta-encoded stream cannot be decoded (${e.code}): ${e.message}`);
    }
    throw e;
  } finally {
    counted.destroy();
  }
  return { wireBytes, bytes: pos };
}

export interface Inspector {
  push(chunk: Buffer): void;
}

/**
 * Reads the staged stream back through fd and checks its length, every chunk digest and the
 * whole-stream SHA-256 against the signed manifest, feeding the bytes to the format inspector.
 */
export async function verifyStaged(fd: number, manifest: ReleaseManifest, inspector: Inspector, progress: (bytes: number) => void): Promise<void> {
  const { bytes, chunkSize, chunks, sha256 } = manifest.stream;
  const whole = createHash("sha256");
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, 1024 * 1024));
  let pos = 0;
  let structural: unknown = null;
  for (let i = 0; i < chunks.length; i++) {
    const end = Math.min(bytes, pos + chunkSize);
    const h = createHash("sha256");
    while (pos < end) {
      const n = await pread(fd, buf.subarray(0, Math.min(buf.length, end - pos)), pos);
      if (n === 0) {
        throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is truncated: ${pos} of ${bytes} bytes arrived`);
      }
      const piece = buf.subarray(0, n);
      h.update(piece);
      whole.update(piece);
      // A structural problem counts only once the bytes are known to be the signed ones:
      // a damaged stream is reported as a digest mismatch, not as a malformed stream.
      if (!structural) {
        try {
          inspector.push(piece);
        } catch (e) {
          structural = e;
        }
      }
      pos += n;
    }
    if (h.digest("hex") !== chunks[i]) {
      throw new AgentError("DIGEST_MISMATCH", "verify", `chunk ${i} of the stream (bytes ${i * chunkSize}–${end}) does not match its signed digest`);
    }
    if (structural) throw structural;
    progress(pos);
  }
  const extra = await pread(fd, buf.subarray(0, 1), pos);
  if (extra !== 0) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is longer than the ${bytes} bytes its manifest declares`);
  if (whole.digest("hex") !== sha256) {
    throw new AgentError("DIGEST_MISMATCH", "verify", "the stream's SHA-256 does not match its manifest");
  }
}
