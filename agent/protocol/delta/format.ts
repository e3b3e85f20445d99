// Keel delta wire format: shared constants, the error type, varints and CRC-32C.
// Used by both the console-side encoder and the agent-side decoder, so Node's stdlib only.

/** First 8 bytes of every Keel delta. */
export const DELTA_MAGIC = Buffer.from("KEELDLTA", "latin1");
/** Format version 1: copies and literals (the wire form keel-delta-1). */
export const DELTA_FORMAT_VERSION = 1;
/** Format version 2: version 1 plus DIFF data ops and a difference section per frame (decision 0040). */
export const DELTA_FORMAT_V2 = 2;
/** The versions a decoder reads; it refuses any other. */
export const DELTA_FORMAT_VERSIONS: readonly number[] = [DELTA_FORMAT_VERSION, DELTA_FORMAT_V2];
/** Largest JSON header a decoder accepts. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Largest frame (ops + literals) a decoder buffers; bounds host memory. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Largest btrfs send command or RAW record a decoder rebuilds in memory (v1 commands are ≤ 64 KiB). */
export const MAX_COMMAND_BYTES = 1024 * 1024;
/** Brotli window (log2) of the body; the decoder needs this much memory for it. */
export const BROTLI_LGWIN = 24;

/** One record of a frame's op stream: how the next piece of the target is produced. */
export const Kind = {
  /** End of the target. */
  END: 0,
  /** btrfs send WRITE continuing the previous WRITE (same path, next offset): varint dataLen, data ops. */
  WRITE_CONT: 1,
  /** btrfs send WRITE: varint pathLen (path bytes in literals), varint offset, varint dataLen, data ops. */
  WRITE: 2,
  /** Any other btrfs send command: varint cmd, varint payloadLen, data ops; CRC recomputed. */
  COMMAND: 3,
  /** Verbatim bytes (stream header, a command whose CRC is not the computed one, non-stream targets). */
  RAW: 4,
} as const;

/**
 * Data-op tags (low 2 bits of the tag varint; the rest is the length). COPY_SAME copies from the
 * file of the previous copy, COPY_FILE names a file (varint index into the header's list); both are
 * followed by zigzag(offset − end of the previous copy from that file). DIFF (format 2 only):
 * varint 0 (the file of the previous copy) or file index + 1, zigzag offset as for a copy; the
 * parent's bytes plus their differences, added mod 256. The differences are runs in the frame's
 * difference section: varint zeros, varint count, count bytes — until they cover the op's length
 * exactly (zeros + count ≥ 1 each).
 */
export const Op = { LIT: 0, COPY_SAME: 1, COPY_FILE: 2, DIFF: 3 } as const;

export const SEND_MAGIC = Buffer.from("btrfs-stream\0", "latin1");
export const SEND_CMD_HEADER = 10; // u32 len, u16 cmd, u32 crc
export const SEND_CMD_WRITE = 15;
export const SEND_ATTR_PATH = 15;
export const SEND_ATTR_FILE_OFFSET = 18;
export const SEND_ATTR_DATA = 19;

export type DeltaErrorCode =
  | "PARENT_MISMATCH" // the host's parent tree is not the one the delta was made against
  | "CORRUPT" // the delta (or the decoded bytes) are not what the encoder produced
  | "TRUNCATED" // the delta ended early
  | "UNSUPPORTED" // unknown magic/format version
  | "TOO_LARGE"; // a limit that bounds host memory would be exceeded

/** Every failure of encode/decode; `code` says what to do (see README). */
export class DeltaError extends Error {
  readonly code: DeltaErrorCode;
  constructor(code: DeltaErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "DeltaError";
    this.code = code;
  }
}

/** One parent file the delta copies from, as the header lists it. */
export interface DeltaParentFile {
  /** Relative path inside the parent tree, `/`-separated, no `.`/`..` parts. */
  path: string;
  bytes: number;
  /**
   * Its SHA-256 (64 hex digits), or the first 16 of them when the header came compact on the wire
   * (keel-delta-c, decision 0044): it names the parent file that differs, the signed manifest's
   * digests decide whether the decoded stream is installed.
   */
  sha256: string;
}

/** The JSON header that follows magic + version. */
export interface DeltaHeader {
  target: { bytes: number; sha256: string };
  parent: { files: DeltaParentFile[] };
  encoder: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A parent file's digest: whole, or its first 64 bits (keel-delta-c). */
const PARENT_DIGEST = /^[0-9a-f]{16}(?:[0-9a-f]{48})?$/;

/** True for a relative path that stays inside its root. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 4096 || p.startsWith("/") || p.includes("\0")) return false;
  return p.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

/** Validates an untrusted header (decoder side). */
export function parseHeader(json: string): DeltaHeader {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (cause) {
    throw new DeltaError("CORRUPT", "delta header is not valid JSON", { cause });
  }
  const bad = (what: string) => new DeltaError("CORRUPT", `delta header: ${what}`);
  const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (typeof v !== "object" || v === null) throw bad("not an object");
  const h = v as Record<string, unknown>;
  const t = h.target as Record<string, unknown> | undefined;
  if (!t || !isCount(t.bytes) || typeof t.sha256 !== "string" || !HEX64.test(t.sha256))
    throw bad("bad target");
  const p = h.parent as Record<string, unknown> | undefined;
  if (!p || !Array.isArray(p.files)) throw bad("bad parent");
  const files: DeltaParentFile[] = p.files.map((f: unknown, i: number) => {
    const r = f as Record<string, unknown>;
    if (!r || typeof r.path !== "string" || !isSafeRelativePath(r.path))
      throw bad(`parent file ${i}: bad path`);
    if (!isCount(r.bytes) || typeof r.sha256 !== "string" || !PARENT_DIGEST.test(r.sha256))
      throw bad(`parent file ${i}: bad digest`);
    return { path: r.path, bytes: r.bytes, sha256: r.sha256 };
  });
  return {
    target: { bytes: t.bytes, sha256: t.sha256 },
    parent: { files },
    encoder: String(h.encoder ?? ""),
  };
}

/** Copies n bytes; short copies in a loop (Buffer#copy costs more than the bytes below ~64). */
export function copyBytes(src: Buffer, from: number, dst: Buffer, at: number, n: number): void {
  if (n < 64) {
    for (let k = 0; k < n; k++) dst[at + k] = src[from + k]!;
  } else {
    src.copy(dst, at, from, from + n);
  }
}

/** dst[at + k] += diff[from + k] (mod 256) for k < n: a DIFF run on the parent bytes already in dst. */
export function addBytes(diff: Uint8Array, from: number, dst: Buffer, at: number, n: number): void {
  for (let k = 0; k < n; k++) dst[at + k] = (dst[at + k]! + diff[from + k]!) & 0xff;
}

/** Appends an unsigned LEB128 varint (safe integers only) to `out`. */
export function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

export function zigzag(n: number): number {
  return n < 0 ? -n * 2 - 1 : n * 2;
}

export function unzigzag(n: number): number {
  return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
}

/** Reads varints out of one decoded frame section. */
export class VarintCursor {
  pos = 0;
  constructor(public buf: Buffer) {}
  /** Starts over on another section (one cursor serves every frame). */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  next(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length)
        throw new DeltaError("CORRUPT", "delta op stream ends inside a number");
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
      if (mul > 2 ** 49) throw new DeltaError("CORRUPT", "delta op stream holds an oversized number");
    }
    return n;
  }
}

/** CRC-32C tables for slicing-by-8: T[k][b] is the CRC of byte b followed by k zero bytes. */
export const CRC32C_T = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++)
    for (let k = 1; k < 8; k++)
      t[k * 256 + i] = (t[(k - 1) * 256 + i]! >>> 8) ^ t[t[(k - 1) * 256 + i]! & 0xff]!;
  return t;
})();

/**
 * CRC-32C as btrfs send uses it: seed 0, no final inversion. Eight bytes per step (slicing-by-8):
 * the decoder runs it over every byte of the stream it rebuilds.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  const t = CRC32C_T;
  let c = seed | 0;
  let i = start;
  for (const stop = end - 7; i < stop; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** Computes the CRC of a complete send command held in `cmd` (its crc field is ignored). */
export function sendCommandCrc(cmd: Uint8Array): number {
  let c = crc32c(cmd, 0, 6);
  c = crc32c(ZERO4, 0, 4, c);
  return crc32c(cmd, 10, cmd.length, c);
}
const ZERO4 = new Uint8Array(4);

/** Rebuilds a WRITE command from (path, offset, data) the way the kernel lays it out. */
export function buildWriteCommand(path: Buffer, offset: number, dataLen: number): Buffer {
  const payload = 4 + path.length + 4 + 8 + 4 + dataLen;
  const cmd = Buffer.alloc(SEND_CMD_HEADER + payload);
  cmd.writeUInt32LE(payload, 0);
  cmd.writeUInt16LE(SEND_CMD_WRITE, 4);
  let p = SEND_CMD_HEADER;
  p = cmd.writeUInt16LE(SEND_ATTR_PATH, p);
  p = cmd.writeUInt16LE(path.length, p);
  p += path.copy(cmd, p);
  p = cmd.writeUInt16LE(SEND_ATTR_FILE_OFFSET, p);
  p = cmd.writeUInt16LE(8, p);
  p = cmd.writeBigUInt64LE(BigInt(offset), p);
  p = cmd.writeUInt16LE(SEND_ATTR_DATA, p);
  cmd.writeUInt16LE(dataLen, p);
  return cmd;
}
