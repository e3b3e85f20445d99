// Staging and verifying a receive's stream in one pass. The stream is written into an unnamed
// file (O_TMPFILE) in `.staging/<op>/` through one file descriptor with positioned writes (so its
// offset stays 0), and every buffer that is written is hashed and inspected from memory at the same
// time: each chunk's SHA-256 is compared with the signed manifest as soon as the chunk is complete,
// the whole-stream SHA-256, the length and the structure at the end. The unpacker (btrfs receive's
// stdin) then gets that very descriptor. The file has no name, so nothing can open it by path to
// change it after verification (on a file system without O_TMPFILE it is `.staging/<op>/stream`,
// 0600 in a 0700 directory, and replacing it by path changes nothing).
// With wire encoding `keel-delta-1` the bytes are decoded against the parent tree while staging;
// verification then runs on the decoded bytes as always.
import { constants, openSync, write } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type { ReleaseManifest, WireEncoding } from "../../protocol";
import { decodeDelta, DeltaError } from "../../protocol/delta/decode";
import { AgentError, isDiskFull } from "../errors";
import { StreamProblem } from "./send-stream";
import { StreamDigester } from "../stream-digest";

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

/** Linux's O_TMPFILE (__O_TMPFILE | O_DIRECTORY); Node does not export it. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/**
 * Opens the staging file for a receive: an unnamed file in opDir (O_TMPFILE) where the file
 * system supports it, else opDir/stream (created exclusively, 0600). Returns the descriptor.
 */
export function openStagingFile(opDir: string): number {
  try {
    return openSync(opDir, O_TMPFILE | constants.O_RDWR, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EOPNOTSUPP" && code !== "EISDIR" && code !== "EINVAL") throw e;
  }
  return openSync(join(opDir, "stream"), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
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
  /** Sees every byte written, in order (digests and structure, checked while staging). */
  verifier: StreamVerifier;
  progress: (bytes: number) => void;
}): Promise<StageResult> {
  const limit = opts.manifest.stream.bytes;
  let pos = 0;
  let wireBytes = 0;
  const put = async (chunk: Buffer) => {
    if (pos + chunk.length > limit) {
      throw new AgentError("DIGEST_MISMATCH", "stage", `the stream is longer than the ${limit} bytes its manifest declares`);
    }
    // The write runs on libuv's thread pool while this thread hashes the same (unchanging) buffer.
    const written = pwrite(opts.fd, chunk, pos);
    try {
      opts.verifier.update(chunk);
    } catch (e) {
      await written.catch(() => undefined); // never leave a write in flight on a descriptor about to close
      throw e;
    }
    try {
      await written;
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

function verifyError(e: unknown): unknown {
  return e instanceof StreamProblem ? new AgentError(e.kind, "verify", e.message) : e;
}

/**
 * Checks a stream as it is staged, against the signed manifest: every chunk's SHA-256 as soon as
 * the chunk is complete, then (finish) the length, the whole-stream SHA-256 and the format
 * inspector's verdict. The bytes are fed to the inspector as they come, but a structural problem
 * counts only once the bytes are known to be the signed ones: a damaged stream is reported as a
 * digest mismatch, not as a malformed stream.
 */
export class StreamVerifier {
  private readonly digester: StreamDigester;
  private structural: unknown = null;

  constructor(
    private readonly manifest: ReleaseManifest,
    inspector: Inspector,
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
    );
  }

  update(buf: Buffer): void {
    this.digester.update(buf);
  }

  /** Call once the whole stream is staged. Throws AgentError (step "verify") on any mismatch. */
  finish(): void {
    const { bytes, chunks, sha256 } = this.manifest.stream;
    const pos = this.digester.bytes;
    if (pos < bytes) {
      throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is truncated: ${pos} of ${bytes} bytes arrived`);
    }
    if (pos > bytes) throw new AgentError("DIGEST_MISMATCH", "verify", `the stream is longer than the ${bytes} bytes its manifest declares`);
    const whole = this.digester.finish();
    if (this.digester.chunks !== chunks.length) {
      throw new AgentError("DIGEST_MISMATCH", "verify", `the stream has ${this.digester.chunks} chunks, its manifest lists ${chunks.length}`);
    }
    if (whole !== sha256) {
      throw new AgentError("DIGEST_MISMATCH", "verify", "the stream's SHA-256 does not match its manifest");
    }
    if (this.structural) throw verifyError(this.structural);
  }
}
