// Console side: encode a target (a btrfs send stream, or any bytes) against the parent tree the
// host already holds. Output: magic, version, JSON header, brotli body of frames (README.md).
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Readable, type Writable } from "node:stream";
import { constants as zc, createBrotliCompress } from "node:zlib";
import { ByteReader } from "./byte-reader";
import { Dictionary, OpBytes, type OpSink } from "./dictionary";
import {
  BROTLI_LGWIN,
  DELTA_FORMAT_V2,
  DELTA_FORMAT_VERSION,
  DELTA_MAGIC,
  Kind,
  MAX_COMMAND_BYTES,
  SEND_ATTR_DATA,
  SEND_ATTR_FILE_OFFSET,
  SEND_ATTR_PATH,
  SEND_CMD_HEADER,
  SEND_CMD_WRITE,
  SEND_MAGIC,
  buildWriteCommand,
  pushVarint,
  sendCommandCrc,
  type DeltaHeader,
  type DeltaParentFile,
} from "./format";

export interface EncodeDeltaOptions {
  /** The parent version's tree exactly as the host holds it (e.g. the read-only parent subvolume). */
  parentDir: string;
  /** The bytes to deliver: a file path or a stream (normally the `btrfs send [-p]` stream). */
  target: string | Readable;
  /** Receives the delta. Not ended by encodeDelta. */
  out: Writable;
  /** Brotli quality of the body, 0–11 (default 11). */
  quality?: number;
  /** Parent bytes the matcher keeps cached (default 32 MiB); the output does not depend on it. */
  parentCacheBytes?: number;
  /**
   * Format version (default 1, the wire form keel-delta-1). 2 adds approximate matches (DIFF ops,
   * decision 0040): only for hosts whose agent lists keel-delta-2.
   */
  version?: 1 | 2;
}

export interface EncodeDeltaResult {
  /** Bytes written to `out`: what goes over the wire. */
  bytes: number;
  targetBytes: number;
  targetSha256: string;
  /** Parent files the delta refers to (each checked by the host before decoding). */
  parentFiles: number;
  copiedBytes: number;
  literalBytes: number;
  /** Of copiedBytes, those produced by DIFF ops (format 2). */
  diffBytes: number;
}

/** A frame is flushed to brotli once its ops + literals pass this. */
const FRAME_TARGET = 4 * 1024 * 1024;
/** The body's brotli stream is flushed (a metablock ends) after each this many frame bytes. */
const BROTLI_FLUSH_BYTES = 1024 * 1024;
/**
 * Brotli's input block (2^16, the smallest; quality 11 otherwise takes 2^18): its match search
 * works one block at a time, and its scratch arrays scale with the block (decision 0037).
 */
const BROTLI_LGBLOCK = 16;
/** Targets that are not send streams are cut into chunks of this size. */
const RAW_CHUNK = MAX_COMMAND_BYTES;

class FrameWriter implements OpSink {
  ops = new OpBytes();
  lits = new OpBytes();
  diffs = new OpBytes();
  written = 0;
  constructor(
    private readonly file: FileHandle,
    private readonly version: number,
  ) {}

  /**
   * Writes the frame once its sections pass FRAME_TARGET (or when forced), straight from the
   * reused section buffers: no frame-sized buffer is made per frame, and the sections are reused
   * only once the write has completed.
   */
  async maybeFlush(force = false): Promise<void> {
    const bytes = this.ops.length + this.lits.length + this.diffs.length;
    if (!force && bytes < FRAME_TARGET) return;
    if (bytes === 0) return;
    const head: number[] = [];
    pushVarint(head, this.ops.length);
    pushVarint(head, this.lits.length);
    if (this.version === DELTA_FORMAT_V2) pushVarint(head, this.diffs.length);
    const parts = [Buffer.from(head), this.ops.bytes(), this.lits.bytes(), this.diffs.bytes()];
    const total = parts.reduce((s, b) => s + b.length, 0);
    for (let done = 0; done < total;) {
      const { bytesWritten } = await this.file.writev(skip(parts, done));
      done += bytesWritten;
    }
    this.written += total;
    this.ops.length = 0;
    this.lits.length = 0;
    this.diffs.length = 0;
  }
}

/** `parts` without their first `n` bytes. */
function skip(parts: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of parts) {
    if (n >= b.length) n -= b.length;
    else {
      out.push(b.subarray(n));
      n = 0;
    }
  }
  return out;
}

/** If `cmd` is a v1 WRITE in the kernel's layout, its parts; else null. */
function parseWrite(cmd: Buffer): { path: Buffer; offset: number; data: Buffer } | null {
  if (cmd.readUInt16LE(4) !== SEND_CMD_WRITE || cmd.length < SEND_CMD_HEADER + 24) return null;
  let p = SEND_CMD_HEADER;
  if (cmd.readUInt16LE(p) !== SEND_ATTR_PATH) return null;
  const pathLen = cmd.readUInt16LE(p + 2);
  const path = cmd.subarray(p + 4, p + 4 + pathLen);
  p += 4 + pathLen;
  if (p + 16 > cmd.length || cmd.readUInt16LE(p) !== SEND_ATTR_FILE_OFFSET || cmd.readUInt16LE(p + 2) !== 8)
    return null;
  const offset = cmd.readBigUInt64LE(p + 4);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  p += 12;
  if (cmd.readUInt16LE(p) !== SEND_ATTR_DATA) return null;
  const dataLen = cmd.readUInt16LE(p + 2);
  if (p + 4 + dataLen !== cmd.length) return null;
  const data = cmd.subarray(p + 4);
  // Only claim the structured form when rebuilding it gives these exact bytes.
  const rebuilt = buildWriteCommand(path, Number(offset), dataLen);
  if (
    !rebuilt.subarray(0, 6).equals(cmd.subarray(0, 6)) ||
    !rebuilt.subarray(10, p + 4).equals(cmd.subarray(10, p + 4))
  )
    return null;
  return { path, offset: Number(offset), data };
}

/**
 * Encodes `target` against the parent tree in `parentDir` and writes the delta to `out`, in two
 * passes so that the matcher's index and brotli's window are never in memory together (decision
 * 0031): the frames go to a temporary file, the index is released, then the file is compressed
 * into `out` behind the header.
 */
export async function encodeDelta(opts: EncodeDeltaOptions): Promise<EncodeDeltaResult> {
  const tmp = await mkdtemp(join(tmpdir(), "keel-delta-"));
  try {
    const framesPath = join(tmp, "frames");
    const version = opts.version ?? DELTA_FORMAT_VERSION;
    const m = await matchTarget(opts, version, framesPath);
    const header: DeltaHeader = {
      target: { bytes: m.targetBytes, sha256: m.targetSha256 },
      parent: { files: m.parentFiles },
      encoder:
        version === DELTA_FORMAT_V2
          ? "keel-delta/2 rolling-hash+diff+brotli"
          : "keel-delta/1 rolling-hash+brotli",
    };
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(DELTA_MAGIC.length + 8);
    DELTA_MAGIC.copy(prefix, 0);
    prefix.writeUInt32BE(version, DELTA_MAGIC.length);
    prefix.writeUInt32BE(json.length, DELTA_MAGIC.length + 4);
    let bytes = 0;
    const put = async (b: Buffer): Promise<void> => {
      bytes += b.length;
      if (!opts.out.write(b)) await once(opts.out, "drain");
    };
    await put(prefix);
    await put(json);
    const brotli = createBrotliCompress({
      params: {
        [zc.BROTLI_PARAM_QUALITY]: opts.quality ?? 11,
        [zc.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
        [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_GENERIC,
        [zc.BROTLI_PARAM_LGBLOCK]: BROTLI_LGBLOCK,
      },
    });
    const drained = (async () => {
      for await (const chunk of brotli) await put(chunk as Buffer);
    })();
    drained.catch(() => {}); // awaited below
    const frames = await open(framesPath, "r");
    let failed = false;
    try {
      // A flush after every BROTLI_FLUSH_BYTES of frames ends brotli's metablock there, so its
      // per-metablock state (commands, block splits, histograms, output storage) stays small; the
      // window (2^24) and its match finder carry over, so matches still reach back 16 MiB
      // (decision 0037). One reused input buffer: the flush's callback means brotli consumed it.
      const buf = Buffer.allocUnsafeSlow(BROTLI_FLUSH_BYTES);
      for (;;) {
        const { bytesRead } = await frames.read(buf, 0, buf.length);
        if (bytesRead === 0) break;
        const flushed = new Promise<void>((res, rej) => {
          brotli.write(buf.subarray(0, bytesRead));
          brotli.flush(zc.BROTLI_OPERATION_FLUSH, (err?: Error | null) => (err ? rej(err) : res()));
        });
        flushed.catch(() => {}); // a failed brotli also rejects `drained`
        await Promise.race([flushed, drained]);
      }
    } catch (e) {
      failed = true;
      brotli.destroy(e as Error);
    } finally {
      await frames.close();
    }
    if (!failed) brotli.end();
    await drained;
    return {
      bytes,
      targetBytes: m.targetBytes,
      targetSha256: m.targetSha256,
      parentFiles: m.parentFiles.length,
      copiedBytes: m.copiedBytes,
      literalBytes: m.literalBytes,
      diffBytes: m.diffBytes,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** First pass: the target's frames (uncompressed) into `framesPath`; the index lives only here. */
async function matchTarget(
  { parentDir, target, parentCacheBytes }: EncodeDeltaOptions,
  version: number,
  framesPath: string,
): Promise<{
  targetBytes: number;
  targetSha256: string;
  parentFiles: DeltaParentFile[];
  copiedBytes: number;
  literalBytes: number;
  diffBytes: number;
  frameBytes: number;
}> {
  const dict = await Dictionary.load(parentDir, parentCacheBytes);
  dict.approx = version === DELTA_FORMAT_V2;
  try {
    const file = await open(framesPath, "w");
    try {
      const sink = new FrameWriter(file, version);
      const source =
        typeof target === "string" ? createReadStream(target, { highWaterMark: 1 << 20 }) : target;
      const hash = createHash("sha256");
      const reader = new ByteReader(source, "target");
      const cmdBuf = Buffer.allocUnsafe(SEND_CMD_HEADER + MAX_COMMAND_BYTES);
      let targetBytes = 0;
      const consumed = (b: Buffer): void => {
        hash.update(b);
        targetBytes += b.length;
      };
      const raw = async (b: Buffer): Promise<void> => {
        consumed(b);
        for (let at = 0; at < b.length; at += RAW_CHUNK) {
          const piece = b.subarray(at, at + RAW_CHUNK);
          sink.ops.varint(Kind.RAW);
          sink.ops.varint(piece.length);
          dict.encode(sink, piece);
          await sink.maybeFlush();
        }
      };

      const head = await reader.readUpTo(SEND_MAGIC.length + 4);
      const isSend =
        head.length === SEND_MAGIC.length + 4 && head.subarray(0, SEND_MAGIC.length).equals(SEND_MAGIC);
      const sendVersion = isSend ? head.readUInt32LE(SEND_MAGIC.length) : 0;
      await raw(head);
      let lastWrite: { path: Buffer; end: number } | null = null;
      while (!(await reader.atEnd())) {
        if (!isSend) {
          await raw(await reader.readUpTo(RAW_CHUNK));
          continue;
        }
        const hdr = await reader.readUpTo(SEND_CMD_HEADER);
        const len = hdr.length === SEND_CMD_HEADER ? hdr.readUInt32LE(0) : -1;
        if (len < 0 || len > MAX_COMMAND_BYTES) {
          await raw(hdr); // not a command we rebuild: carried verbatim
          continue;
        }
        // Into one reused buffer: the matcher copies what it keeps (literals, the last path).
        const body = await reader.readUpTo(len);
        hdr.copy(cmdBuf, 0);
        body.copy(cmdBuf, SEND_CMD_HEADER);
        const cmd = cmdBuf.subarray(0, SEND_CMD_HEADER + body.length);
        if (cmd.length !== SEND_CMD_HEADER + len || sendCommandCrc(cmd) !== cmd.readUInt32LE(6)) {
          await raw(cmd);
          continue;
        }
        consumed(cmd);
        const w = sendVersion === 1 ? parseWrite(cmd) : null;
        if (w && lastWrite && w.path.equals(lastWrite.path) && w.offset === lastWrite.end) {
          sink.ops.varint(Kind.WRITE_CONT);
          sink.ops.varint(w.data.length);
          dict.encode(sink, w.data);
        } else if (w) {
          sink.ops.varint(Kind.WRITE);
          sink.ops.varint(w.path.length);
          sink.lits.put(w.path);
          sink.ops.varint(w.offset);
          sink.ops.varint(w.data.length);
          dict.encode(sink, w.data);
        } else {
          sink.ops.varint(Kind.COMMAND);
          sink.ops.varint(cmd.readUInt16LE(4));
          sink.ops.varint(len);
          dict.encode(sink, cmd.subarray(SEND_CMD_HEADER));
        }
        if (w) {
          if (!lastWrite || !w.path.equals(lastWrite.path)) lastWrite = { path: Buffer.from(w.path), end: 0 };
          lastWrite.end = w.offset + w.data.length;
        }
        await sink.maybeFlush();
      }
      sink.ops.varint(Kind.END);
      await sink.maybeFlush(true);
      return {
        targetBytes,
        targetSha256: hash.digest("hex"),
        parentFiles: dict.parentFiles(),
        copiedBytes: dict.copied,
        literalBytes: dict.literal,
        diffBytes: dict.diffed,
        frameBytes: sink.written,
      };
    } finally {
      await file.close();
    }
  } finally {
    dict.close();
  }
}
