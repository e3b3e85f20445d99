// Verifying a receive's stream chunk by chunk while it is handed to the unpacker (decision 0010).
// The incoming bytes (raw, or decoded from keel-delta-1 against the installed base tree) are copied
// into one of two chunk-sized buffers and, piece by piece as they arrive, hashed and fed to the
// format inspector. A chunk goes to the unpacker (`btrfs receive`'s stdin, or the plain backend's
// staging file) only once its SHA-256 matched the signed manifest and the inspector found nothing
// wrong in it; the last chunk only after the length, the chunk count and the end of the stream (end
// marker, nothing after it, declared special files) checked out too. No unverified byte ever
// reaches the unpacker. While one chunk is being written the next one is read and checked; at most
// two chunks (2 × 4 MiB by default) are held: the next piece is not read before the chunk before
// it has been written (backpressure from btrfs receive).
// The whole-stream SHA-256 of the manifest is not recomputed: every chunk matched its signed digest
// and the chunk count and the length are exact, so the bytes are the signed ones.
import { Readable, Writable } from "node:stream";
import type { ReleaseManifest, WireEncoding } from "../../protocol";
import { decodeDelta, DeltaError } from "../../protocol/delta/decode";
import { AgentError, isDiskFull } from "../errors";
import { StreamDigester } from "../stream-digest";
import { StreamProblem } from "./send-stream";

export interface Inspector {
  push(chunk: Buffer): void;
}

/** Where verified bytes go: btrfs receive's stdin, or the plain backend's staging file. */
export interface VerifiedSink {
  /** Takes the next verified bytes; resolves once buf may be reused. */
  write(buf: Buffer): Promise<void>;
}

export interface StreamResult {
  /** Bytes that arrived on the wire. */
  wireBytes: number;
  /** Bytes of the stream verified and handed to the unpacker. */
  bytes: number;
}

function verifyError(e: unknown): unknown {
  return e instanceof StreamProblem ? new AgentError(e.kind, "verify", e.message) : e;
}

/**
 * Checks a stream against its signed manifest as it arrives: update() hashes and inspects every
 * byte and throws as soon as a chunk is complete whose SHA-256 does not match (or in which the
 * inspector found a structural problem); finish() — when the input ended, before the last chunk
 * is released — checks the length, the last chunk, the chunk count and the end of the stream. A
 * structural problem counts only once its chunk matched its digest: a damaged stream is reported as
 * a digest mismatch, not as a malformed stream.
 */
export class StreamVerifier {
  private readonly digester: StreamDigester;
  private structural: unknown = null;

  constructor(
    private readonly manifest: ReleaseManifest,
    private readonly inspector: Inspector,
  ) {
    const { chunkSize, chunks } = manifest.stream;
    this.digester = new StreamDigester(
      chunkSize,
      (hex, i) => {
        if (hex !== chunks[i]) {
          throw new AgentError("DIGEST_MISMATCH", "verify", `chunk ${i} of the stream (bytes ${i * chunkSize}–${this.digester.bytes}) does not match its signed digest`);
        }
        if (this.structural) throw verifyError(this.structural);
      },
      (piece) => {
        if (this.structural) return;
        try {
          inspector.push(piece);
        } catch (e) {
          this.structural = e;
        }
      },
      false,
    );
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.digester.bytes;
  }

  update(buf: Buffer): void {
    this.digester.update(buf);
  }

  /**
   * The end of the stream. finishInspector returns the format's verdict on it (it throws a
   * StreamProblem for a stream that ends badly). Throws AgentError (step "verify").
   */
  finish<T>(finishInspector: () => T): T {
    const { bytes, chunks } = this.manifest.stream;
    const pos = this.digester.bytes;
    if (pos < bytes) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is truncated: ${pos} of ${bytes} bytes arrived`);
    if (pos > bytes) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is longer than the ${bytes} bytes its manifest declares`);
    this.digester.finish(); // the last, partial chunk
    if (this.digester.chunks !== chunks.length) {
      throw new AgentError("DIGEST_MISMATCH", "verify", `the stream has ${this.digester.chunks} chunks, its manifest lists ${chunks.length}`);
    }
    if (this.structural) throw verifyError(this.structural);
    try {
      return finishInspector();
    } catch (e) {
      throw verifyError(e);
    }
  }
}

/**
 * Reads the input (raw, or decoded from keel-delta-1 against deltaParentDir), verifies it chunk by
 * chunk and hands each verified chunk to the sink, in order. `endOfStream` runs the checks of the
 * end of the stream (verifier.finish and what depends on it) before the last chunk is released;
 * `handedOff` is called after each chunk reached the sink (progress, fault points).
 */
export async function streamVerified(opts: {
  input: AsyncIterable<Buffer>;
  wire: WireEncoding;
  deltaParentDir: string | null;
  manifest: ReleaseManifest;
  verifier: StreamVerifier;
  endOfStream: () => void;
  sink: VerifiedSink;
  handedOff: (bytes: number, last: boolean) => Promise<void> | void;
}): Promise<StreamResult> {
  const { chunkSize, bytes: declared } = opts.manifest.stream;
  const size = Math.max(1, Math.min(chunkSize, declared));
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  let cur = 0;
  let fill = 0;
  let handed = 0;
  let wireBytes = 0;
  // The writes of the chunks released so far, in order; a failure there ends the stream.
  let pending: Promise<void> = Promise.resolve();
  let failed: unknown = null;

  /** Hands a verified chunk to the sink; resolves when the chunk before it has been written. */
  const release = (chunk: Buffer, last: boolean): Promise<void> => {
    const prev = pending;
    pending = (async () => {
      await prev;
      await opts.sink.write(chunk);
      handed += chunk.length;
      await opts.handedOff(handed, last);
    })();
    pending.catch((e: unknown) => (failed ??= e));
    return prev;
  };

  const put = async (data: Buffer) => {
    if (opts.verifier.bytes + data.length > declared) {
      throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is longer than the ${declared} bytes its manifest declares`);
    }
    let off = 0;
    while (off < data.length) {
      if (failed) throw failed;
      const buf = bufs[cur]!;
      const take = Math.min(data.length - off, size - fill);
      data.copy(buf, fill, off, off + take);
      opts.verifier.update(buf.subarray(fill, fill + take)); // throws when this completes a bad chunk
      fill += take;
      off += take;
      if (fill === size && opts.verifier.bytes < declared) {
        const written = release(buf, false);
        cur ^= 1;
        fill = 0;
        await written; // the other buffer is free again
      }
    }
  };

  const end = async () => {
    if (failed) throw failed;
    opts.endOfStream();
    await release(bufs[cur]!.subarray(0, fill), true);
    await pending;
  };

  try {
    if (opts.wire === "raw") {
      for await (const data of opts.input) {
        wireBytes += data.length;
        await put(data);
      }
    } else {
      if (!opts.deltaParentDir) {
        throw new AgentError("BAD_REQUEST", "verify", "wire encoding keel-delta-1 needs a parent version installed on the host");
      }
      await decodeInto(opts.input, opts.deltaParentDir, put, (n) => (wireBytes += n));
    }
    await end();
    return { wireBytes, bytes: handed };
  } catch (e) {
    await pending.catch(() => undefined); // never leave a write in flight
    throw failed ?? e;
  }
}

/** Decodes keel-delta-1 against parentDir, handing the decoded bytes to put in order. */
async function decodeInto(input: AsyncIterable<Buffer>, parentDir: string, put: (b: Buffer) => Promise<void>, counted: (n: number) => void): Promise<void> {
  const source = Readable.from(
    (async function* () {
      for await (const chunk of input) {
        counted(chunk.length);
        yield Buffer.from(chunk); // the decoder may keep chunks; the input may reuse its buffer
      }
    })(),
  );
  let writeError: unknown = null;
  const output = new Writable({
    highWaterMark: 1024 * 1024,
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
    await decodeDelta({ parentDir, input: source, output });
    await new Promise<void>((resolve, reject) => output.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    if (writeError) throw writeError;
    if (e instanceof AgentError) throw e;
    if (isDiskFull(e)) throw e;
    if (e instanceof DeltaError) {
      const code = e.code === "PARENT_MISMATCH" ? "PARENT_MISMATCH" : "BAD_STREAM";
      throw new AgentError(code, "verify", `the delta-encoded stream cannot be decoded (${e.code}): ${e.message}`);
    }
    throw e;
  } finally {
    source.destroy();
  }
}
