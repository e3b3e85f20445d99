// `keel-z1`: a signed stream compressed on the wire in independent brotli blocks (decision 0030).
//
//   "KEELZ1\0\0"  then blocks:  u32be rawLen (1..MAX_BLOCK_RAW)  u32be zLen (1..MAX_BLOCK_Z)  brotli(zLen bytes)
//                 then the end:  u32be 0  u32be 0                 (nothing may follow)
//
// The host decompresses one block at a time, each into at most its declared rawLen bytes (a block that
// inflates past it — a decompression bomb — is refused before more is produced), so its memory is one
// compressed block + one raw block whatever the stream's size. The bytes it yields are the signed
// stream itself and go through the same chunk-by-chunk verification as a raw one (store/stage.ts).
// Node's standard library only: this runs inside keel-agent.
import { brotliCompress, brotliDecompressSync, constants as zc } from "node:zlib";
import { WireError, WireReader } from "./wire-reader";

export const ZBLOCKS_MAGIC = Buffer.from("KEELZ1\0\0", "latin1");
/** The console's block size, and the most a host accepts in one block. */
export const BLOCK_RAW = 4 * 1024 * 1024;
export const MAX_BLOCK_RAW = 8 * 1024 * 1024;
/** Brotli never grows incompressible input by more than a few bytes per 64 KiB; this bounds it loosely. */
export const MAX_BLOCK_Z = MAX_BLOCK_RAW + 64 * 1024;

/** Brotli quality 6 with a 4 MiB window: ≈ tar.zst's size at a speed the console can afford (docs/benchmarks.md). */
export function compressBlock(raw: Buffer, quality = 6): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    brotliCompress(
      raw,
      {
        params: {
          [zc.BROTLI_PARAM_QUALITY]: quality,
          [zc.BROTLI_PARAM_LGWIN]: 22,
          [zc.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      },
      (e, out) => (e ? reject(e) : resolve(out)),
    ),
  );
}

function u32pair(a: number, b: number): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(a, 0);
  h.writeUInt32BE(b, 4);
  return h;
}

/** Console side: the raw stream's pieces in, the keel-z1 encoding out (one block compressed at a time). */
export async function* compressBlocks(input: AsyncIterable<Buffer>, quality = 6): AsyncGenerator<Buffer> {
  yield ZBLOCKS_MAGIC;
  let parts: Buffer[] = [];
  let held = 0;
  const flush = async function* (n: number) {
    const all = Buffer.concat(parts, held);
    const raw = all.subarray(0, n);
    const z = await compressBlock(raw, quality);
    yield u32pair(raw.length, z.length);
    yield z;
    parts = held > n ? [all.subarray(n)] : [];
    held -= n;
  };
  for await (const piece of input) {
    parts.push(Buffer.from(piece));
    held += piece.length;
    while (held >= BLOCK_RAW) yield* flush(BLOCK_RAW);
  }
  if (held > 0) yield* flush(held);
  yield u32pair(0, 0);
}

/** Host side: keel-z1 pieces in, the signed stream's bytes out, one verified-size block at a time. */
export async function* decompressBlocks(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const r = new WireReader(input, "keel-z1 stream");
  const magic = await r.exact(ZBLOCKS_MAGIC.length);
  if (!magic.equals(ZBLOCKS_MAGIC))
    throw new WireError("UNSUPPORTED", "the stream is not keel-z1 (bad magic); send it as raw");
  for (let block = 0; ; block++) {
    const h = await r.exact(8);
    const rawLen = h.readUInt32BE(0);
    const zLen = h.readUInt32BE(4);
    if (rawLen === 0 && zLen === 0) break;
    if (rawLen === 0 || rawLen > MAX_BLOCK_RAW)
      throw new WireError(
        "TOO_LARGE",
        `keel-z1 block ${block} declares ${rawLen} bytes, outside 1..${MAX_BLOCK_RAW}`,
      );
    if (zLen === 0 || zLen > MAX_BLOCK_Z)
      throw new WireError(
        "TOO_LARGE",
        `keel-z1 block ${block} carries ${zLen} compressed bytes, outside 1..${MAX_BLOCK_Z}`,
      );
    yield inflate(await r.exact(zLen), rawLen, `keel-z1 block ${block}`);
  }
  if (await r.more()) throw new WireError("CORRUPT", "keel-z1 stream has bytes after its end record");
}

/** Decompresses into at most rawLen bytes and insists on exactly rawLen. */
export function inflate(z: Buffer, rawLen: number, what: string): Buffer {
  let out: Buffer;
  try {
    out = brotliDecompressSync(z, { maxOutputLength: rawLen });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError)
      throw new WireError(
        "TOO_LARGE",
        `${what} decompresses to more than the ${rawLen} bytes it declares (a decompression bomb is refused)`,
      );
    throw new WireError(
      code === "Z_BUF_ERROR" ? "TRUNCATED" : "CORRUPT",
      `${what} does not decompress (${code || (e as Error).message})`,
    );
  }
  if (out.length !== rawLen)
    throw new WireError(
      "CORRUPT",
      `${what} decompresses to ${out.length} bytes, not the ${rawLen} it declares`,
    );
  return out;
}
