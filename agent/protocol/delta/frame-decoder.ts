// Host side: executes a delta's frames (records of data ops, see README) into one reused output
// buffer. Commands are rebuilt in place — header, attributes, data copied from the literals or read
// from the parent straight into the buffer, CRC-32C over the result (a word at a time) — so nothing is allocated per
// op; the buffer goes out (and is hashed, when asked) once it is full.
import type { Hash } from "node:crypto";
import {
  DeltaError,
  Kind,
  MAX_COMMAND_BYTES,
  Op,
  SEND_ATTR_DATA,
  SEND_ATTR_FILE_OFFSET,
  SEND_ATTR_PATH,
  SEND_CMD_HEADER,
  SEND_CMD_WRITE,
  VarintCursor,
  addBytes,
  copyBytes,
  unzigzag,
} from "./format";
import { crc32cWords, wordBuffer, type WordBuffer } from "./crc32c-words";
import type { ParentFiles } from "./parent-files";

/** Size of the output buffer: the largest record (a 1 MiB command plus its header) fits. */
export const OUT_BYTES = 2 * MAX_COMMAND_BYTES;

/** The output buffer: filled in place, handed on whole, reused once the consumer took it. */
export class OutputBuffer {
  readonly buf: Buffer;
  /** buf read a word at a time, for the CRCs. */
  readonly words: WordBuffer;
  /** Bytes filled in buf. */
  len = 0;
  /** Bytes handed on before buf's. */
  flushed = 0;

  constructor(
    /** Takes the next bytes; resolves once they may be overwritten. */
    private readonly put: (b: Buffer) => Promise<void>,
    /** The target size the header declares: never exceeded. */
    private readonly limit: number,
    private readonly hash: Hash | null,
    /** OUT_BYTES to fill (ParentFiles.output: copies from the parent go in without a view each). */
    buf: Buffer = Buffer.allocUnsafeSlow(OUT_BYTES),
  ) {
    if (buf.length !== OUT_BYTES) throw new Error(`the output buffer holds ${OUT_BYTES} bytes`);
    this.buf = buf;
    this.words = wordBuffer(buf);
  }

  get bytes(): number {
    return this.flushed + this.len;
  }

  /** True when n more bytes fit without a flush; CORRUPT past the declared size. */
  fits(n: number): boolean {
    if (this.flushed + this.len + n > this.limit)
      throw new DeltaError(
        "CORRUPT",
        `delta decodes to more than the ${this.limit} bytes its header declares`,
      );
    return this.len + n <= OUT_BYTES;
  }

  async flush(): Promise<void> {
    if (this.len === 0) return;
    const b = this.buf.subarray(0, this.len);
    this.hash?.update(b);
    await this.put(b);
    this.flushed += this.len;
    this.len = 0;
  }
}

export class FrameDecoder {
  private lastFile = -1;
  /** Per parent file: where the last copy from it ended (COPY offsets are relative to it). */
  private readonly ends: number[] = [];
  /** The path and end offset of the last WRITE (WRITE_CONT continues it). */
  private readonly lastPath = Buffer.allocUnsafe(0xffff);
  private lastPathLen = -1;
  private lastEnd = 0;
  private readonly ops = new VarintCursor(Buffer.alloc(0));
  private lits: Buffer = Buffer.alloc(0);
  private litPos = 0;
  /** The frame's difference section (format 2; null in format 1, where DIFF is unknown). */
  private readonly diffs = new VarintCursor(Buffer.alloc(0));
  private v2 = false;

  constructor(
    private readonly parents: ParentFiles,
    private readonly out: OutputBuffer,
  ) {}

  /** Fills buf[at, at+len) from data ops. */
  private fill(buf: Buffer, at: number, len: number): void {
    const end = at + len;
    while (at < end) {
      const tag = this.ops.next();
      const t = tag % 4;
      const n = (tag - t) / 4;
      if (n === 0 || n > end - at) throw new DeltaError("CORRUPT", "delta data op has a bad length");
      if (t === Op.LIT) {
        if (this.litPos + n > this.lits.length)
          throw new DeltaError("CORRUPT", "delta op refers past its literals");
        copyBytes(this.lits, this.litPos, buf, at, n);
        this.litPos += n;
      } else if (t === Op.COPY_SAME || t === Op.COPY_FILE) {
        const fi = t === Op.COPY_SAME ? this.lastFile : this.ops.next();
        const f = this.parents.files[fi];
        if (!f) throw new DeltaError("CORRUPT", "delta copies from a parent file it does not list");
        const off = (this.ends[fi] ?? 0) + unzigzag(this.ops.next());
        if (off < 0 || off + n > f.bytes)
          throw new DeltaError("CORRUPT", "delta copies from outside its parent files");
        this.parents.read(fi, buf, at, n, off);
        this.lastFile = fi;
        this.ends[fi] = off + n;
      } else if (this.v2) {
        this.diff(buf, at, n);
      } else {
        throw new DeltaError("CORRUPT", `unknown delta data op ${t}`);
      }
      at += n;
    }
  }

  /** A DIFF op of n bytes into buf at `at`: the parent's bytes plus n difference bytes (mod 256). */
  private diff(buf: Buffer, at: number, n: number): void {
    const sel = this.ops.next();
    const fi = sel === 0 ? this.lastFile : sel - 1;
    const f = this.parents.files[fi];
    if (!f) throw new DeltaError("CORRUPT", "delta diff-copies from a parent file it does not list");
    const off = (this.ends[fi] ?? 0) + unzigzag(this.ops.next());
    if (off < 0 || off + n > f.bytes)
      throw new DeltaError("CORRUPT", "delta diff-copies from outside its parent files");
    this.parents.read(fi, buf, at, n, off);
    const d = this.diffs;
    for (let p = 0; p < n;) {
      const zeros = d.next();
      const count = d.next();
      if (zeros + count === 0 || zeros + count > n - p || d.pos + count > d.buf.length)
        throw new DeltaError("CORRUPT", "delta diff op has a bad difference run");
      addBytes(d.buf, d.pos, buf, at + p + zeros, count);
      d.pos += count;
      p += zeros + count;
    }
    this.lastFile = fi;
    this.ends[fi] = off + n;
  }

  /** Room for n more output bytes (flushes a full buffer). */
  private async room(n: number): Promise<void> {
    if (!this.out.fits(n)) await this.out.flush();
  }

  /** A send command of payload `len` at the end of the output: header now, CRC once filled. */
  private commandHeader(cmd: number, len: number): number {
    const { buf } = this.out;
    const p = this.out.len;
    buf.writeUInt32LE(len, p);
    buf.writeUInt16LE(cmd, p + 4);
    buf.writeUInt32LE(0, p + 6); // the CRC is computed with its own field zeroed
    return p;
  }

  private endCommand(p: number, len: number): void {
    const end = p + SEND_CMD_HEADER + len;
    this.out.buf.writeUInt32LE(crc32cWords(this.out.words, p, end), p + 6);
    this.out.len = end;
  }

  /** A WRITE of the path in lastPath at `offset`, as the kernel lays it out. */
  private async write(offset: number): Promise<void> {
    const dataLen = this.ops.next();
    const pathLen = this.lastPathLen;
    if (dataLen > 0xffff || offset > Number.MAX_SAFE_INTEGER - dataLen)
      throw new DeltaError("CORRUPT", "delta WRITE record out of range");
    const payload = 4 + pathLen + 4 + 8 + 4 + dataLen;
    await this.room(SEND_CMD_HEADER + payload);
    const p = this.commandHeader(SEND_CMD_WRITE, payload);
    const buf = this.out.buf;
    let q = p + SEND_CMD_HEADER;
    q = buf.writeUInt16LE(SEND_ATTR_PATH, q);
    q = buf.writeUInt16LE(pathLen, q);
    q += this.lastPath.copy(buf, q, 0, pathLen);
    q = buf.writeUInt16LE(SEND_ATTR_FILE_OFFSET, q);
    q = buf.writeUInt16LE(8, q);
    q = buf.writeUInt32LE(offset % 0x100000000, q);
    q = buf.writeUInt32LE(Math.floor(offset / 0x100000000), q);
    q = buf.writeUInt16LE(SEND_ATTR_DATA, q);
    q = buf.writeUInt16LE(dataLen, q);
    this.fill(buf, q, dataLen);
    this.endCommand(p, payload);
    this.lastEnd = offset + dataLen;
  }

  /**
   * Runs one frame; true once the END record was seen. State carries over between frames. `diffs`:
   * the frame's difference section in format 2, null in format 1.
   */
  async run(ops: Buffer, lits: Buffer, diffs: Buffer | null = null): Promise<boolean> {
    this.ops.reset(ops);
    this.lits = lits;
    this.litPos = 0;
    this.v2 = diffs !== null;
    this.diffs.reset(diffs ?? Buffer.alloc(0));
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
          await this.room(len);
          this.fill(this.out.buf, this.out.len, len);
          this.out.len += len;
          break;
        }
        case Kind.COMMAND: {
          const cmdType = this.ops.next();
          const len = this.ops.next();
          if (len > MAX_COMMAND_BYTES || cmdType > 0xffff)
            throw new DeltaError("CORRUPT", "delta command record out of range");
          await this.room(SEND_CMD_HEADER + len);
          const p = this.commandHeader(cmdType, len);
          this.fill(this.out.buf, p + SEND_CMD_HEADER, len);
          this.endCommand(p, len);
          break;
        }
        case Kind.WRITE: {
          const pathLen = this.ops.next();
          if (pathLen > 0xffff || this.litPos + pathLen > this.lits.length)
            throw new DeltaError("CORRUPT", "delta WRITE record out of range");
          this.lits.copy(this.lastPath, 0, this.litPos, this.litPos + pathLen);
          this.litPos += pathLen;
          this.lastPathLen = pathLen;
          await this.write(this.ops.next());
          break;
        }
        case Kind.WRITE_CONT:
          if (this.lastPathLen < 0)
            throw new DeltaError("CORRUPT", "delta continues a WRITE that never started");
          await this.write(this.lastEnd);
          break;
        default:
          throw new DeltaError("CORRUPT", `unknown delta record kind ${kind}`);
      }
    }
    if (this.litPos !== this.lits.length) throw new DeltaError("CORRUPT", "delta frame has unused literals");
    if (!this.diffs.done) throw new DeltaError("CORRUPT", "delta frame has unused difference bytes");
    return ended;
  }
}
