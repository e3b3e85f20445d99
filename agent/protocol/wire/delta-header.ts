// `keel-delta-1z`: keel-delta-1 with its JSON header compressed on the wire (decision 0030). The
// header lists every parent file the body copies from with its SHA-256 (557 KB of next's 3.6 MB
// delta); the body is already brotli and passes through untouched.
//
//   "KEELDLTZ"  u32be headerLen (≤ MAX_HEADER_BYTES)  u32be zLen  brotli(header)  keel-delta-1 body
//
// The host turns it back into the exact keel-delta-1 bytes ("KEELDLTA" u32be 1 u32be headerLen
// header body) before the delta decoder sees them; the header is decompressed into at most its
// declared length. Node's standard library only: this runs inside keel-agent.
import { brotliCompressSync, constants as zc } from "node:zlib";
import { DELTA_FORMAT_VERSION, DELTA_MAGIC, MAX_HEADER_BYTES } from "../delta/format";
import { WireError, WireReader } from "./wire-reader";
import { inflate } from "./zblocks";

export const DELTA_Z_MAGIC = Buffer.from("KEELDLTZ", "latin1");
const PREFIX = DELTA_MAGIC.length + 8;

function prefix(magic: Buffer, a: number, b: number): Buffer {
  const h = Buffer.allocUnsafe(PREFIX);
  magic.copy(h, 0);
  h.writeUInt32BE(a, magic.length);
  h.writeUInt32BE(b, magic.length + 4);
  return h;
}

/** Console side: keel-delta-1 pieces in, keel-delta-1z out. The header is compressed once (quality 11: it is small). */
export async function* compressDeltaHeader(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const r = new WireReader(input, "keel-delta-1 delta");
  const p = await r.exact(PREFIX);
  if (!p.subarray(0, DELTA_MAGIC.length).equals(DELTA_MAGIC) || p.readUInt32BE(8) !== DELTA_FORMAT_VERSION)
    throw new WireError("UNSUPPORTED", "not a keel-delta-1 delta; it cannot be sent as keel-delta-1z");
  const len = p.readUInt32BE(12);
  if (len > MAX_HEADER_BYTES)
    throw new WireError("TOO_LARGE", `delta header of ${len} bytes is over the limit`);
  const z = brotliCompressSync(await r.exact(len), {
    params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT },
  });
  yield prefix(DELTA_Z_MAGIC, len, z.length);
  yield z;
  yield* r.rest();
}

/** Host side: keel-delta-1z pieces in, the exact keel-delta-1 bytes out. */
export async function* expandDeltaHeader(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const r = new WireReader(input, "keel-delta-1z delta");
  const p = await r.exact(PREFIX);
  if (!p.subarray(0, DELTA_Z_MAGIC.length).equals(DELTA_Z_MAGIC))
    throw new WireError("UNSUPPORTED", "the delta is not keel-delta-1z (bad magic)");
  const len = p.readUInt32BE(8);
  const zLen = p.readUInt32BE(12);
  if (len === 0 || len > MAX_HEADER_BYTES)
    throw new WireError(
      "TOO_LARGE",
      `keel-delta-1z header declares ${len} bytes, outside 1..${MAX_HEADER_BYTES}`,
    );
  if (zLen === 0 || zLen > len + 64 * 1024)
    throw new WireError("TOO_LARGE", `keel-delta-1z header carries ${zLen} compressed bytes for ${len}`);
  const header = inflate(await r.exact(zLen), len, "the keel-delta-1z header");
  yield prefix(DELTA_MAGIC, DELTA_FORMAT_VERSION, len);
  yield header;
  yield* r.rest();
}
