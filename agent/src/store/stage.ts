// Verifying a receive's stream chunk by chunk while it is handed to the unpacker (decision 0010).
// The incoming bytes (raw, or decoded from keel-delta-1 against the installed base tree) are copied
// into one of two chunk-sized buffers; the format inspector sees them as they arrive, and as soon as
// a chunk is complete its SHA-256 is computed (WebCrypto, on libuv's thread pool, so the main thread
// keeps the unpacker fed) and compared with the signed manifest. A chunk goes to the unpacker
// (`btrfs receive`'s stdin, or the plain backend's staging file) only after its digest matched and
// the inspector found nothing wrong in it; the last chunk only after the length, the chunk count and
// the end of the stream (end marker, nothing after it) checked out too. No unverified byte ever
// reaches the unpacker, and at most two chunks (2 × 4 MiB by default) are held in memory: the next
// chunk is not read before the one before it has been written.
// The whole-stream SHA-256 of the manifest is not recomputed: every chunk matched its signed digest,
// the chunk count and the length are exact, so the bytes are the signed ones.
import { webcrypto } from "node:crypto";
import { Readable, Writable } from "node:stream";
import type { ReleaseManifest, WireEncoding } from "../../protocol";
import { decodeDelta, DeltaError } from "../../protocol/delta/decode";
import { AgentError, isDiskFull } from "../errors";
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

function hex(digest: ArrayBuffer): string {
  return Buffer.from(digest).toString("hex");
}

/**
 * Checks a stream against its signed manifest, chunk by chunk: inspect() every byte in order
 * (pieces never span two chunks), then checkChunk(i) once chunk i is complete — its SHA-256 against
 * the manifest, and any structural problem the inspector found in it; finish() before the last
 * chunk is released: the length, the chunk count and the inspector's verdict on the end of the
 * stream. A structural problem counts only once its chunk matched its digest: a damaged stream is
 * reported as a digest mismatch, not as a malformed stream.
 */
export class StreamVerifier {
  private structural: { error: unknown; chunk: number } | null = null;
  private fed = 0;

  constructor(
    private readonly manifest: ReleaseManifest,
    private readonly inspector: Inspector,
  ) {}

  /** Bytes inspected so far. */
  get bytes(): number {
    return this.fed;
  }

  inspect(piece: Buffer): void {
    const chunk = Math.floor(this.fed / this.manifest.stream.chunkSize);
    this.fed += piece.length;
    if (this.structural) return;
    try {
      this.inspector.push(piece);
    } catch (e) {
      this.structural = { error: e, chunk };
    }
  }

  /** Starts hashing chunk i now (the thread pool copies the bytes); the promise checks it. */
  checkChunk(i: number, bytes: Buffer): Promise<void> {
    const { chunkSize, chunks } = this.manifest.stream;
    return webcrypto.subtle.digest("SHA-256", bytes).then((d) => {
      if (hex(d) !== chunks[i]) {
        throw new AgentError("DIGEST_MISMATCH", "verify", `chunk ${i} of the stream (bytes ${i * chunkSize}–${i * chunkSize + bytes.length}) does not match its signed digest`);
      }
      if (this.structural && this.structural.chunk <= i) throw verifyError(this.structural.error);
    });
  }

  /** The length and the number of chunks; call when the input ended, before checking the last chunk. */
  checkLength(): void {
    const { bytes } = this.manifest.stream;
    if (this.fed < bytes) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is truncated: ${this.fed} of ${bytes} bytes arrived`);
    if (this.fed > bytes) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is longer than the ${bytes} bytes its manifest declares`);
  }

  /** The end of the stream: call once every chunk matched. Throws AgentError (step "verify"). */
  finish(finishInspector: () => void): void {
    if (this.structural) throw verifyError(this.structural.error);
    try {
      finishInspector();
    } catch (e) {
      throw verifyError(e);
    }
  }
}

/**
 * Reads the input (raw, or decoded from keel-delta-1 against deltaParentDir), verifies it chunk by
 * chunk and hands each verified chunk to the sink, in order. `endOfStream` runs the checks of the
 * end of the stream (verifier.finish) before the last chunk is released; `handedOff` is called
 * after each chunk reached the sink (progress, fault points).
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
  const { chunkSize, bytes: declared, chunks } = opts.manifest.stream;
  const size = Math.max(1, Math.min(chunkSize, declared));
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  let cur = 0;
  let fill = 0;
  let index = 0;
  let handed = 0;
  let wireBytes = 0;
  // The check and write of the chunks released so far, in order; a failure there ends the stream.
  let pending: Promise<void> = Promise.resolve();
  let failed: unknown = null;

  const release = (i: number, chunk: Buffer, last: boolean): Promise<void> => {
    const checked = opts.verifier.checkChunk(i, chunk);
    checked.catch(() => undefined); // awaited below, in order
    const prev = pending;
    pending = (async () => {
      await prev;
      await checked;
      if (last) opts.endOfStream();
      await opts.sink.write(chunk);
      handed += chunk.length;
      await opts.handedOff(handed, last);
    })();
    pending.catch((e: unknown) => (failed ??= e));
    return prev; // the buffer of chunk i-1 is free once its write completed
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
      opts.verifier.inspect(buf.subarray(fill, fill + take));
      fill += take;
      off += take;
      if (fill === size && index < chunks.length - 1) {
        const done = release(index++, buf, false);
        cur ^= 1;
        fill = 0;
        await done;
      }
    }
  };

  const end = async () => {
    if (failed) throw failed;
    opts.verifier.checkLength();
    await release(index, bufs[cur]!.subarray(0, fill), true);
    await pending;
  };

  try {
    if (opts.wire === "raw") {
      for await (const data of opts.input) {
        wireBytes += data.length;
        await put(data);
      }
      await end();
      return { wireBytes, bytes: handed };
    }
    if (!opts.deltaParentDir) {
      throw new AgentError("BAD_REQUEST", "verify", "wire encoding keel-delta-1 needs a parent version installed on the host");
    }
    await decodeInto(opts.input, opts.deltaParentDir, put, (n) => (wireBytes += n));
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
