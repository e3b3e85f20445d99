// Verifying a receive's stream chunk by chunk while it is handed to the unpacker (decision 0010).
// The incoming bytes (raw, or decoded from keel-delta-1 against the installed base tree) land in
// one ring buffer of a chunk plus 256 KiB — a file is read straight into it, other inputs are copied
// into it — and are hashed and fed to the format inspector where they lie, piece by piece as they
// arrive. A chunk goes to the unpacker (`btrfs receive`'s stdin, or the plain backend's staging
// file), in slices written from the ring, only once its SHA-256 matched the signed manifest and the
// inspector found nothing wrong in it; the last chunk only after the length, the chunk count and the
// end of the stream (end marker, nothing after it, declared special files) checked out too. No
// unverified byte ever reaches the unpacker. While a chunk is being written the next one is read
// into the space the written slices free up (backpressure from btrfs receive: nothing is read
// beyond a chunk plus 256 KiB ahead of what was written); it is complete, and released, before the
// chunk ahead of it has been written out, so the unpacker does not wait for the hashing.
// The whole-stream SHA-256 of the manifest is not recomputed: every chunk matched its signed digest
// and the chunk count and the length are exact, so the bytes are the signed ones.
import type { ReleaseManifest, WireEncoding } from "../../protocol";
import { DeltaDecoder, DeltaError } from "../../protocol/delta/decode";
import { AgentError, isDiskFull } from "../errors";
import type { FileReader } from "../input";
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
          throw new AgentError(
            "DIGEST_MISMATCH",
            "verify",
            `chunk ${i} of the stream (bytes ${i * chunkSize}–${this.digester.bytes}) does not match its signed digest`,
          );
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
    if (pos < bytes)
      throw new AgentError(
        "DIGEST_MISMATCH",
        "verify",
        `the stream is truncated: ${pos} of ${bytes} bytes arrived`,
      );
    if (pos > bytes)
      throw new AgentError(
        "DIGEST_MISMATCH",
        "verify",
        `the stream is longer than the ${bytes} bytes its manifest declares`,
      );
    this.digester.finish(); // the last, partial chunk
    if (this.digester.chunks !== chunks.length) {
      throw new AgentError(
        "DIGEST_MISMATCH",
        "verify",
        `the stream has ${this.digester.chunks} chunks, its manifest lists ${chunks.length}`,
      );
    }
    if (this.structural) throw verifyError(this.structural);
    try {
      return finishInspector();
    } catch (e) {
      throw verifyError(e);
    }
  }
}

/** Bytes read (and hashed) at a time: the main thread hashes, and between pieces it returns to the event loop that feeds the unpacker. */
const PIECE = 256 * 1024;
/** Bytes handed to the unpacker at a time: space in the ring is freed in steps this size. */
const SLICE = 256 * 1024;
/** Room in the ring beyond one chunk: the next chunk completes while the last slice of this one is still being written. */
const SLACK = 256 * 1024;

/** Where the pipeline pulls its bytes from. */
interface Source {
  /** Reads up to len bytes into buf at off; 0 at the end of the input. */
  read(buf: Buffer, off: number, len: number): number | Promise<number>;
  /** Bytes that arrived on the wire so far. */
  readonly wireBytes: number;
  /** Stops the input (on failure, or after its end); waits for what feeds it to settle. */
  close(): Promise<void>;
}

function fileSource(file: FileReader): Source {
  let wireBytes = 0;
  return {
    read(buf, off, len) {
      const n = file.read(buf, off, len);
      wireBytes += n;
      return n;
    },
    get wireBytes() {
      return wireBytes;
    },
    close: async () => file.close(),
  };
}

/** Pieces handed over by a producer (an iterator, the delta decoder), copied out as they are read. */
class Channel implements Source {
  wireBytes = 0;
  private data: Buffer | null = null;
  private off = 0;
  private taken: ((e?: unknown) => void) | null = null;
  private wake: (() => void) | null = null;
  private ended = false;
  private error: unknown = null;
  private closed = false;
  private producer: Promise<void> = Promise.resolve();

  /** Runs the producer: it calls put() for each piece (resolves when the piece was read) and returns at the end. */
  run(produce: (put: (d: Buffer) => Promise<void>) => Promise<void>): this {
    this.producer = produce((d) => this.put(d)).then(
      () => this.end(null),
      (e: unknown) => this.end(e ?? new Error("input failed")),
    );
    return this;
  }

  private put(d: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the receive stopped reading"));
    if (d.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.data = d;
      this.off = 0;
      this.taken = (e) => (e ? reject(e) : resolve());
      this.poke();
    });
  }

  private end(e: unknown): void {
    this.ended = true;
    this.error = e;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    while (!this.data) {
      if (this.error) throw this.error;
      if (this.ended) return 0;
      await new Promise<void>((r) => (this.wake = r));
    }
    const n = Math.min(len, this.data.length - this.off);
    this.data.copy(buf, off, this.off, this.off + n);
    this.off += n;
    if (this.off === this.data.length) {
      const t = this.taken;
      this.data = null;
      this.taken = null;
      t?.();
    }
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.taken;
    this.data = null;
    this.taken = null;
    t?.(new Error("the receive stopped reading"));
    await this.producer;
  }
}

function iterableSource(input: AsyncIterable<Buffer>): Channel {
  const ch = new Channel();
  return ch.run(async (put) => {
    for await (const data of input) {
      ch.wireBytes += data.length;
      await put(data);
    }
  });
}

async function* noInput(): AsyncGenerator<Buffer> {}

const toEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Reads the input (a file straight into the ring, or pieces: raw, or decoded from keel-delta-1
 * against deltaParentDir), verifies it chunk by chunk and hands each verified chunk to the sink,
 * in order, in slices. `endOfStream` runs the checks of the end of the stream (verifier.finish and
 * what depends on it) before the last chunk is released; `handedOff` is called after each chunk
 * reached the sink (progress, fault points).
 */
export async function streamVerified(opts: {
  /** The input as pieces (each valid until the next is asked for); or `file`. */
  input?: AsyncIterable<Buffer>;
  /** A file input, raw wire encoding only: read straight into the ring. */
  file?: FileReader;
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
  const ringSize = size + Math.min(size, SLACK);
  let source: Source;
  let decoder: DeltaDecoder | null = null;
  if (opts.wire === "raw") {
    source = opts.file ? fileSource(opts.file) : iterableSource(opts.input ?? noInput());
  } else {
    opts.file?.close();
    if (!opts.deltaParentDir) {
      throw new AgentError(
        "BAD_REQUEST",
        "verify",
        "wire encoding keel-delta-1 needs a parent version installed on the host",
      );
    }
    const parentDir = opts.deltaParentDir;
    const ch = new Channel();
    source = ch.run((put) =>
      decodeInto(
        (decoder = deltaDecoder(opts.input ?? noInput(), parentDir, put, (n) => (ch.wireBytes += n))),
      ),
    );
  }
  const ring = Buffer.allocUnsafe(ringSize);
  // Stream offsets: read (and hashed) < released (verified, may be written) ≤ … ; written ≤ released.
  let read = 0;
  let released = 0;
  let written = 0;
  let final = false; // everything released: the writer ends once it has written it
  let stopped = false;
  let failed: unknown = null;
  let wakeReader: (() => void) | null = null;
  let wakeWriter: (() => void) | null = null;
  const poke = (which: "reader" | "writer") => {
    const w = which === "reader" ? wakeReader : wakeWriter;
    if (which === "reader") wakeReader = null;
    else wakeWriter = null;
    w?.();
  };

  // Writes the released bytes from the ring, in order, a slice at a time; a failure ends the stream.
  const writer = (async () => {
    let chunkEnd = Math.min(size, declared);
    for (;;) {
      if (stopped) return;
      if (written < released) {
        const at = written % ringSize;
        const n = Math.min(released - written, ringSize - at, SLICE, chunkEnd - written); // a slice never spans two chunks
        await opts.sink.write(ring.subarray(at, at + n));
        written += n;
        poke("reader");
        if (written === chunkEnd) {
          await opts.handedOff(written, written === declared);
          chunkEnd = Math.min(chunkEnd + size, declared);
        }
      } else if (final) {
        return;
      } else {
        await new Promise<void>((r) => (wakeWriter = r));
      }
    }
  })();
  writer.catch((e: unknown) => {
    failed ??= e;
    poke("reader");
  });
  const release = (upTo: number) => {
    released = upTo;
    poke("writer");
  };

  try {
    while (read < declared) {
      if (failed) throw failed;
      const free = written + ringSize - read;
      if (free === 0) {
        await new Promise<void>((r) => (wakeReader = r));
        continue;
      }
      const at = read % ringSize;
      const toChunkEnd = size - (read % size);
      const n = await source.read(
        ring,
        at,
        Math.min(free, ringSize - at, toChunkEnd, declared - read, PIECE),
      );
      if (n === 0) break;
      opts.verifier.update(ring.subarray(at, at + n)); // throws when this completes a bad chunk
      read += n;
      if (read % size === 0 && read < declared) release(read);
      if (written < released) await toEventLoop(); // let the event loop feed the unpacker
    }
    if (failed) throw failed;
    if (read === declared && (await source.read(Buffer.allocUnsafe(1), 0, 1)) > 0) {
      throw new AgentError(
        "DIGEST_MISMATCH",
        "verify",
        `the stream is longer than the ${declared} bytes its manifest declares`,
      );
    }
    opts.endOfStream();
    final = true;
    release(read);
    await writer;
    if (failed) throw failed;
    return { wireBytes: source.wireBytes, bytes: written };
  } catch (e) {
    stopped = true; // never leave a write in flight
    poke("writer");
    await writer.catch(() => undefined);
    await source.close().catch(() => undefined);
    throw classifyDeltaFailure(decoder, failed ?? e);
  } finally {
    await source.close().catch(() => undefined);
  }
}

/**
 * Decodes keel-delta-1 against parentDir, handing the decoded bytes to put in order. The decoder
 * checks neither the parent's SHA-256 nor the header's (unsigned) target digest: every chunk of its
 * output is verified against the signed manifest here, and only when one does not match is the
 * parent hashed, to tell a differing parent from a bad delta (decision 0021).
 */
function deltaDecoder(
  input: AsyncIterable<Buffer>,
  parentDir: string,
  put: (b: Buffer) => Promise<void>,
  counted: (n: number) => void,
): DeltaDecoder {
  const pieces = (async function* () {
    for await (const chunk of input) {
      counted(chunk.length);
      yield Buffer.from(chunk); // the decoder may keep chunks; the input may reuse its buffer
    }
  })();
  return new DeltaDecoder({ parentDir, input: pieces, put, checkDigests: false });
}

async function decodeInto(decoder: DeltaDecoder): Promise<void> {
  try {
    await decoder.run();
  } catch (e) {
    if (e instanceof AgentError) throw e;
    if (isDiskFull(e)) throw e;
    if (e instanceof DeltaError) throw deltaAgentError(e);
    throw e;
  }
}

function deltaAgentError(e: DeltaError): AgentError {
  const code = e.code === "PARENT_MISMATCH" ? "PARENT_MISMATCH" : "BAD_STREAM";
  return new AgentError(
    code,
    "verify",
    `the delta-encoded stream cannot be decoded (${e.code}): ${e.message}${code === "PARENT_MISMATCH" ? "; send the stream without delta encoding" : ""}`,
  );
}

/** A decoded stream that failed its signed digests: PARENT_MISMATCH when the installed base differs. */
function classifyDeltaFailure(decoder: DeltaDecoder | null, e: unknown): unknown {
  if (!decoder || !(e instanceof AgentError) || e.code !== "DIGEST_MISMATCH") return e;
  const pm = decoder.parentMismatch();
  return pm ? deltaAgentError(pm) : e;
}
