// Host side (runs inside keel-agent, stdlib only): turn a Keel delta back into the exact target
// bytes (the signed btrfs send stream), streaming, with bounded memory. The body is decompressed in
// large blocks, the frames are executed into one reused output buffer (frame-decoder.ts) with the
// parent read synchronously through per-file windows (parent-files.ts). decodeDelta checks the
// parent's SHA-256 before and the target's after; DeltaDecoder lets a caller that verifies the output
// against signed digests itself (the agent, store/stage.ts) skip both and ask about the parent only
// when the output failed (decision 0021).
import { createHash } from "node:crypto";
import { Readable, pipeline, type Writable } from "node:stream";
import { constants as zc, createBrotliDecompress } from "node:zlib";
import { ByteReader } from "./byte-reader";
import {
  DELTA_FORMAT_V2,
  DELTA_FORMAT_VERSIONS,
  DELTA_MAGIC,
  DeltaError,
  MAX_FRAME_BYTES,
  MAX_HEADER_BYTES,
  parseHeader,
  type DeltaHeader,
} from "./format";
import { FrameDecoder, OUT_BYTES, OutputBuffer } from "./frame-decoder";
import { ParentFiles } from "./parent-files";

export { DeltaError, type DeltaErrorCode } from "./format";

export interface DecodeDeltaOptions {
  /** The parent tree the host holds (the read-only parent subvolume). */
  parentDir: string;
  /** The delta as it came over the wire. */
  input: Readable;
  /** Receives the decoded target bytes. Not ended by decodeDelta. */
  output: Writable;
}

export interface DecodeDeltaResult {
  /** Bytes written to `output`. */
  bytes: number;
  /** SHA-256 (hex) of the bytes written; equal to the header's target digest. */
  sha256: string;
}

/** Brotli output block: the body is decompressed this much at a time (one thread-pool trip each). */
const BROTLI_CHUNK = 256 * 1024;

/** Reads the 16-byte prefix and the JSON header; the format version with it. */
async function readHeader(reader: ByteReader): Promise<DeltaHeader & { version: number }> {
  const prefix = await reader.readExact(DELTA_MAGIC.length + 8);
  if (!prefix.subarray(0, DELTA_MAGIC.length).equals(DELTA_MAGIC))
    throw new DeltaError("UNSUPPORTED", "input is not a Keel delta (bad magic)");
  const version = prefix.readUInt32BE(DELTA_MAGIC.length);
  if (!DELTA_FORMAT_VERSIONS.includes(version))
    throw new DeltaError(
      "UNSUPPORTED",
      `Keel delta format ${version} is not supported (this agent reads ${DELTA_FORMAT_VERSIONS.join(", ")})`,
    );
  const len = prefix.readUInt32BE(DELTA_MAGIC.length + 4);
  if (len > MAX_HEADER_BYTES)
    throw new DeltaError("TOO_LARGE", `delta header of ${len} bytes is over the limit`);
  return { ...parseHeader((await reader.readExact(len)).toString("utf8")), version };
}

function asDeltaError(e: unknown): unknown {
  if (e instanceof DeltaError) return e;
  const code = (e as NodeJS.ErrnoException)?.code ?? "";
  if (code === "Z_BUF_ERROR") return new DeltaError("TRUNCATED", "delta body ended early", { cause: e });
  // Brotli decoder errors carry its BrotliDecoderErrorCode names: ERR__ERROR_FORMAT_…
  if (code.startsWith("ERR__ERROR_") || code.startsWith("ERR_BROTLI") || code === "Z_DATA_ERROR")
    return new DeltaError("CORRUPT", "delta body does not decompress", { cause: e });
  return e;
}

export interface DeltaDecoderOptions {
  parentDir: string;
  input: AsyncIterable<Buffer | string>;
  /** Takes the next decoded bytes (≤ 2 MiB); resolves once they may be overwritten. */
  put: (b: Buffer) => Promise<void>;
  /**
   * true: compare every parent file's SHA-256 with the header before decoding (PARENT_MISMATCH
   * before any byte is put) and the output's with the header's target digest after. false: the
   * caller verifies the output against digests it trusts (the signed manifest's) and calls
   * parentMismatch() when it does not match. Paths, symlinks, types and sizes are checked either way.
   */
  checkDigests: boolean;
}

/** One decode. run() once; after a failure, parentMismatch() tells a differing parent from a bad delta. */
export class DeltaDecoder {
  private parents: ParentFiles | null = null;

  constructor(private readonly opts: DeltaDecoderOptions) {}

  /** Decodes everything; the target's byte count and (with checkDigests) its SHA-256. */
  async run(): Promise<{ bytes: number; sha256: string | null }> {
    const reader = new ByteReader(this.opts.input, "delta");
    const header = await readHeader(reader);
    const parents = (this.parents = new ParentFiles(this.opts.parentDir, header.parent.files, OUT_BYTES));
    const brotli = createBrotliDecompress({
      chunkSize: BROTLI_CHUNK,
      params: { [zc.BROTLI_DECODER_PARAM_LARGE_WINDOW]: 0 },
    });
    try {
      parents.check();
      if (this.opts.checkDigests) {
        const e = parents.findDigestMismatch();
        if (e) throw e;
      }
      pipeline(Readable.from(reader.rest()), brotli, () => {}); // errors surface through the body reader
      const body = new ByteReader(brotli, "delta body");
      const hash = this.opts.checkDigests ? createHash("sha256") : null;
      const out = new OutputBuffer(this.opts.put, header.target.bytes, hash, parents.output);
      const frames = new FrameDecoder(parents, out);
      const v2 = header.version === DELTA_FORMAT_V2;
      for (let ended = false; !ended;) {
        const opsLen = await body.readVarint();
        const litLen = await body.readVarint();
        const diffLen = v2 ? await body.readVarint() : 0;
        if (opsLen + litLen + diffLen > MAX_FRAME_BYTES)
          throw new DeltaError(
            "TOO_LARGE",
            `delta frame of ${opsLen + litLen + diffLen} bytes is over the limit`,
          );
        // Valid until the next frame: FrameDecoder copies what it keeps (the last path).
        if (v2) {
          // One buffer for the three sections: a frame holds at most MAX_FRAME_BYTES in all.
          const f = await body.readExactReused(opsLen + litLen + diffLen, 0);
          const lits = f.subarray(opsLen, opsLen + litLen);
          ended = await frames.run(f.subarray(0, opsLen), lits, f.subarray(opsLen + litLen));
        } else {
          ended = await frames.run(
            await body.readExactReused(opsLen, 0),
            await body.readExactReused(litLen, 1),
          );
        }
      }
      if (!(await body.atEnd())) throw new DeltaError("CORRUPT", "delta has data after its end");
      const bytes = out.bytes;
      if (bytes !== header.target.bytes)
        throw new DeltaError(
          "CORRUPT",
          `decoded bytes do not match the target size in the delta header (${bytes} of ${header.target.bytes} bytes)`,
        );
      await out.flush();
      const sha256 = hash?.digest("hex") ?? null;
      if (sha256 !== null && sha256 !== header.target.sha256)
        throw new DeltaError("CORRUPT", "decoded bytes do not match the target digest in the delta header");
      return { bytes, sha256 };
    } catch (e) {
      throw asDeltaError(e);
    } finally {
      brotli.destroy();
      parents.close();
    }
  }

  /**
   * After a failed decode or a decoded stream that did not match its signed digests: the parent
   * file that differs from the one the delta was made against (PARENT_MISMATCH), or null — then the
   * delta itself is bad. Reads (hashes) every listed parent file.
   */
  parentMismatch(): DeltaError | null {
    try {
      return this.parents?.findDigestMismatch() ?? null;
    } finally {
      this.parents?.close();
    }
  }
}

/**
 * Decodes a delta against `parentDir` into `output`. Throws DeltaError: PARENT_MISMATCH before any
 * byte is written when the parent differs; CORRUPT/TRUNCATED/UNSUPPORTED/TOO_LARGE for a bad delta
 * (bytes may already be written then: discard the output).
 */
export async function decodeDelta(opts: DecodeDeltaOptions): Promise<DecodeDeltaResult> {
  const { output } = opts;
  // A copy: the decoder reuses its buffer, and a Writable may hold on to what it was given.
  const put = (b: Buffer) =>
    new Promise<void>((resolve, reject) => output.write(Buffer.from(b), (e) => (e ? reject(e) : resolve())));
  const r = await new DeltaDecoder({
    parentDir: opts.parentDir,
    input: opts.input,
    put,
    checkDigests: true,
  }).run();
  return { bytes: r.bytes, sha256: r.sha256! };
}
