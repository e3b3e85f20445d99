// Host side (runs inside keel-agent, stdlib only): turn a Keel delta back into the exact target
// bytes (the signed btrfs send stream), streaming, with bounded memory. The caller still verifies
// the manifest's SHA-256 and chunk digests of the output before `btrfs receive`.
import { createHash } from "node:crypto";
import { once } from "node:events";
import { Readable, pipeline, type Writable } from "node:stream";
import { constants as zc, createBrotliDecompress } from "node:zlib";
import { ByteReader } from "./byte-reader";
import {
  DELTA_FORMAT_VERSION,
  DELTA_MAGIC,
  DeltaError,
  Kind,
  MAX_COMMAND_BYTES,
  MAX_FRAME_BYTES,
  MAX_HEADER_BYTES,
  Op,
  SEND_CMD_HEADER,
  VarintCursor,
  buildWriteCommand,
  parseHeader,
  sendCommandCrc,
  unzigzag,
  type DeltaHeader,
} from "./format";
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

const OUT_BATCH = 1 << 20;

/** Batches decoded bytes to `output`, hashes them, and refuses to run past the declared size. */
class OutputSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;
  readonly hash = createHash("sha256");
  constructor(
    private readonly output: Writable,
    private readonly limit: number,
  ) {}

  async push(b: Buffer): Promise<void> {
    if (this.bytes + b.length > this.limit)
      throw new DeltaError("CORRUPT", `delta decodes to more than the ${this.limit} bytes its header declares`);
    this.bytes += b.length;
    this.hash.update(b);
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= OUT_BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.output.write(chunk)) await once(this.output, "drain");
  }
}

/** Reads the 16-byte prefix and the JSON header. */
async function readHeader(reader: ByteReader): Promise<DeltaHeader> {
  const prefix = await reader.readExact(DELTA_MAGIC.length + 8);
  if (!prefix.subarray(0, DELTA_MAGIC.length).equals(DELTA_MAGIC)) throw new DeltaError("UNSUPPORTED", "input is not a Keel delta (bad magic)");
  const version = prefix.readUInt32BE(DELTA_MAGIC.length);
  if (version !== DELTA_FORMAT_VERSION)
    throw new DeltaError("UNSUPPORTED", `Keel delta format ${version} is not supported (this agent reads ${DELTA_FORMAT_VERSION})`);
  const len = prefix.readUInt32BE(DELTA_MAGIC.length + 4);
  if (len > MAX_HEADER_BYTES) throw new DeltaError("TOO_LARGE", `delta header of ${len} bytes is over the limit`);
  return parseHeader((await reader.readExact(len)).toString("utf8"));
}

/** Executes one frame's records. State carries over between frames. */
class FrameDecoder {
  lastFile = -1;
  /** Per parent file: where the last copy from it ended (COPY offsets are relative to it). */
  private readonly ends: number[] = [];
  lastWrite: { path: Buffer; end: number } | null = null;
  private ops = new VarintCursor(Buffer.alloc(0));
  private lits: Buffer = Buffer.alloc(0);
  private litPos = 0;

  constructor(
    private readonly parents: ParentFiles,
    private readonly sink: OutputSink,
  ) {}

  private takeLit(n: number): Buffer {
    if (this.litPos + n > this.lits.length) throw new DeltaError("CORRUPT", "delta op refers past its literals");
    const b = this.lits.subarray(this.litPos, this.litPos + n);
    this.litPos += n;
    return b;
  }

  /** Fills buf[at, at+len) from data ops. */
  private async fill(buf: Buffer, at: number, len: number): Promise<void> {
    const end = at + len;
    while (at < end) {
      const tag = this.ops.next();
      const t = tag % 4;
      const n = Math.floor(tag / 4);
      if (n === 0 || n > end - at) throw new DeltaError("CORRUPT", "delta data op has a bad length");
      if (t === Op.LIT) {
        this.takeLit(n).copy(buf, at);
      } else if (t === Op.COPY_SAME || t === Op.COPY_FILE) {
        const fi = t === Op.COPY_SAME ? this.lastFile : this.ops.next();
        const f = this.parents.files[fi];
        if (!f) throw new DeltaError("CORRUPT", "delta copies from a parent file it does not list");
        const off = (this.ends[fi] ?? 0) + unzigzag(this.ops.next());
        if (off < 0 || off + n > f.bytes) throw new DeltaError("CORRUPT", "delta copies from outside its parent files");
        await this.parents.read(fi, buf, at, n, off);
        this.lastFile = fi;
        this.ends[fi] = off + n;
      } else {
        throw new DeltaError("CORRUPT", `unknown delta data op ${t}`);
      }
      at += n;
    }
  }

  private async command(cmd: Buffer, dataAt: number): Promise<void> {
    await this.fill(cmd, dataAt, cmd.length - dataAt);
    cmd.writeUInt32LE(sendCommandCrc(cmd), 6);
    await this.sink.push(cmd);
  }

  private async write(path: Buffer, offset: number): Promise<void> {
    const dataLen = this.ops.next();
    if (dataLen > 0xffff || path.length > 0xffff || offset > Number.MAX_SAFE_INTEGER - dataLen)
      throw new DeltaError("CORRUPT", "delta WRITE record out of range");
    const cmd = buildWriteCommand(path, offset, dataLen);
    await this.command(cmd, cmd.length - dataLen);
    this.lastWrite = { path, end: offset + dataLen };
  }

  /** Runs one frame; true once the END record was seen. */
  async run(ops: Buffer, lits: Buffer): Promise<boolean> {
    this.ops = new VarintCursor(ops);
    this.lits = lits;
    this.litPos = 0;
    let ended = false;
    while (!this.ops.done) {
      if (ended) throw new DeltaError("CORRUPT", "delta has records after its end");
      const kind = this.ops.next();
      switch (kind) {
        case Kind.END:
          ended = true;
          break;
        case Kind.RAW: {
          const len = this.ops.next();
          if (len > MAX_COMMAND_BYTES) throw new DeltaError("CORRUPT", "delta RAW record over the limit");
          const buf = Buffer.allocUnsafe(len);
          await this.fill(buf, 0, len);
          await this.sink.push(buf);
          break;
        }
        case Kind.COMMAND: {
          const cmdType = this.ops.next();
          const len = this.ops.next();
          if (len > MAX_COMMAND_BYTES || cmdType > 0xffff) throw new DeltaError("CORRUPT", "delta command record out of range");
          const cmd = Buffer.alloc(SEND_CMD_HEADER + len);
          cmd.writeUInt32LE(len, 0);
          cmd.writeUInt16LE(cmdType, 4);
          await this.command(cmd, SEND_CMD_HEADER);
          break;
        }
        case Kind.WRITE: {
          const path = Buffer.from(this.takeLit(this.ops.next()));
          await this.write(path, this.ops.next());
          break;
        }
        case Kind.WRITE_CONT:
          if (!this.lastWrite) throw new DeltaError("CORRUPT", "delta continues a WRITE that never started");
          await this.write(this.lastWrite.path, this.lastWrite.end);
          break;
        default:
          throw new DeltaError("CORRUPT", `unknown delta record kind ${kind}`);
      }
    }
    if (this.litPos !== this.lits.length) throw new DeltaError("CORRUPT", "delta frame has unused literals");
    return ended;
  }
}

function asDeltaError(e: unknown): unknown {
  if (e instanceof DeltaError) return e;
  const code = (e as NodeJS.ErrnoException)?.code ?? "";
  if (code === "Z_BUF_ERROR") return new DeltaError("TRUNCATED", "delta body ended early", { cause: e });
  // Brotli decoder errors carry its BrotliDecoderErrorCode names: ERR__ERROR_FORMAT_…
  if (code.startsWith("ERR__ERROR_") || code.startsWith("ERR_BROTLI") || code === "Z_DATA_ERROR") return new DeltaError("CORRUPT", "delta body does not decompress", { cause: e });
  return e;
}

/**
 * Decodes a delta against `parentDir` into `output`. Throws DeltaError: PARENT_MISMATCH before any
 * byte is written when the parent differs; CORRUPT/TRUNCATED/UNSUPPORTED/TOO_LARGE for a bad delta
 * (bytes may already be written then: discard the output).
 */
export async function decodeDelta(opts: DecodeDeltaOptions): Promise<DecodeDeltaResult> {
  const reader = new ByteReader(opts.input, "delta");
  const header = await readHeader(reader);
  const parents = new ParentFiles(opts.parentDir, header.parent.files);
  const brotli = createBrotliDecompress({ params: { [zc.BROTLI_DECODER_PARAM_LARGE_WINDOW]: 0 } });
  try {
    await parents.verify();
    pipeline(Readable.from(reader.rest()), brotli, () => {}); // errors surface through the body reader
    const body = new ByteReader(brotli, "delta body");
    const sink = new OutputSink(opts.output, header.target.bytes);
    const frames = new FrameDecoder(parents, sink);
    for (let ended = false; !ended; ) {
      const opsLen = await body.readVarint();
      const litLen = await body.readVarint();
      if (opsLen + litLen > MAX_FRAME_BYTES) throw new DeltaError("TOO_LARGE", `delta frame of ${opsLen + litLen} bytes is over the limit`);
      ended = await frames.run(await body.readExact(opsLen), await body.readExact(litLen));
    }
    if (!(await body.atEnd())) throw new DeltaError("CORRUPT", "delta has data after its end");
    await sink.flush();
    const sha256 = sink.hash.digest("hex");
    if (sink.bytes !== header.target.bytes || sha256 !== header.target.sha256)
      throw new DeltaError("CORRUPT", `decoded bytes do not match the target digest in the delta header (${sink.bytes} of ${header.target.bytes} bytes)`);
    return { bytes: sink.bytes, sha256 };
  } catch (e) {
    throw asDeltaError(e);
  } finally {
    brotli.destroy();
    await parents.close();
  }
}
