// `keel-delta-1z`: keel-delta-1 with its JSON header compressed on the wire (decision 0030). The
// header lists every parent file the body copies from with its SHA-256 (557 KB of next's 3.6 MB
// delta); the body is already brotli and passes through untouched.
//
//   "KEELDLTZ"  u32be headerLen (≤ MAX_HEADER_BYTES)  u32be zLen  brotli(header)  keel-delta-1 body
//
// The host turns it back into the exact keel-delta-1 bytes ("KEELDLTA" u32be 1 u32be headerLen
// header body) before the delta decoder sees them; the header is decompressed into at most its
// declared length. Node's standard library only: this runs inside keel-agent.
//
// `keel-delta-2` (decision 0040) is the same container for a format-2 delta, under its own magic
// "KEELDLT2", expanded to "KEELDLTA" u32be 2 …: an agent that does not list keel-delta-2 is never sent one.
//
// `keel-delta-c` (decision 0044): a format-1 or format-2 delta whose header goes compact
// (delta-compact.ts: binary, its format version first, parent paths sharing prefixes, parent
// digests shortened to 64 bits), under "KEELDLTC":
//
//   "KEELDLTC"  u32be compactLen  u32be zLen (0: stored)  brotli(compact header) or it  delta body
//
// expanded on the host to "KEELDLTA" u32be version u32be jsonLen and a JSON header with those digests.
import { brotliCompressSync, constants as zc } from "node:zlib";
import {
  DELTA_FORMAT_V2,
  DELTA_FORMAT_VERSION,
  DELTA_FORMAT_VERSIONS,
  DELTA_MAGIC,
  MAX_HEADER_BYTES,
} from "../delta/format";
import { compactHeader, expandCompactHeader } from "./delta-compact";
import { WireError, WireReader } from "./wire-reader";
import { inflate } from "./zblocks";

export const DELTA_Z_MAGIC = Buffer.from("KEELDLTZ", "latin1");
export const DELTA_2_MAGIC = Buffer.from("KEELDLT2", "latin1");
export const DELTA_C_MAGIC = Buffer.from("KEELDLTC", "latin1");

/** The containers: format version inside, magic and wire form name outside. */
const FORMS = {
  [DELTA_FORMAT_VERSION]: { magic: DELTA_Z_MAGIC, name: "keel-delta-1z", inner: "keel-delta-1", v: 1 },
  [DELTA_FORMAT_V2]: { magic: DELTA_2_MAGIC, name: "keel-delta-2", inner: "format-2 Keel", v: 2 },
  c: { magic: DELTA_C_MAGIC, name: "keel-delta-c", inner: "Keel", v: null },
} as const;
/** Which container: 1 (keel-delta-1z), 2 (keel-delta-2) or "c" (keel-delta-c, compact header). */
export type DeltaContainer = keyof typeof FORMS;
const PREFIX = DELTA_MAGIC.length + 8;

function prefix(magic: Buffer, a: number, b: number): Buffer {
  const h = Buffer.allocUnsafe(PREFIX);
  magic.copy(h, 0);
  h.writeUInt32BE(a, magic.length);
  h.writeUInt32BE(b, magic.length + 4);
  return h;
}

/**
 * Console side: keel-delta-1 pieces in, keel-delta-1z out (format 2: keel-delta-2). The header is
 * compressed once (quality 11: it is small).
 */
export async function* compressDeltaHeader(
  input: AsyncIterable<Buffer>,
  version: DeltaContainer = DELTA_FORMAT_VERSION,
): AsyncGenerator<Buffer> {
  const form = FORMS[version];
  const r = new WireReader(input, `${form.inner} delta`);
  const p = await r.exact(PREFIX);
  const v = p.readUInt32BE(8);
  if (
    !p.subarray(0, DELTA_MAGIC.length).equals(DELTA_MAGIC) ||
    (form.v === null ? !DELTA_FORMAT_VERSIONS.includes(v) : v !== form.v)
  )
    throw new WireError("UNSUPPORTED", `not a ${form.inner} delta; it cannot be sent as ${form.name}`);
  const len = p.readUInt32BE(12);
  if (len > MAX_HEADER_BYTES)
    throw new WireError("TOO_LARGE", `delta header of ${len} bytes is over the limit`);
  if (version === "c") {
    const compact = compactHeader(v as 1 | 2, await r.exact(len));
    const z = brotliCompressSync(compact, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } });
    const stored = z.length >= compact.length;
    yield prefix(form.magic, compact.length, stored ? 0 : z.length);
    yield stored ? compact : z;
    yield* r.rest();
    return;
  }
  const z = brotliCompressSync(await r.exact(len), {
    params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT },
  });
  yield prefix(form.magic, len, z.length);
  yield z;
  yield* r.rest();
}

/** Host side: keel-delta-1z pieces in, the exact keel-delta-1 bytes out (keel-delta-2: format 2). */
export async function* expandDeltaHeader(
  input: AsyncIterable<Buffer>,
  version: DeltaContainer = DELTA_FORMAT_VERSION,
): AsyncGenerator<Buffer> {
  const form = FORMS[version];
  const r = new WireReader(input, `${form.name} delta`);
  const p = await r.exact(PREFIX);
  if (!p.subarray(0, form.magic.length).equals(form.magic))
    throw new WireError("UNSUPPORTED", `the delta is not ${form.name} (bad magic)`);
  const len = p.readUInt32BE(8);
  const zLen = p.readUInt32BE(12);
  if (len === 0 || len > MAX_HEADER_BYTES)
    throw new WireError(
      "TOO_LARGE",
      `${form.name} header declares ${len} bytes, outside 1..${MAX_HEADER_BYTES}`,
    );
  if (version === "c") {
    if (zLen > len)
      throw new WireError("TOO_LARGE", `${form.name} header carries ${zLen} compressed bytes for ${len}`);
    const compact =
      zLen === 0 ? await r.exact(len) : inflate(await r.exact(zLen), len, `the ${form.name} header`);
    const { version: v, json } = expandCompactHeader(compact, MAX_HEADER_BYTES);
    yield prefix(DELTA_MAGIC, v, json.length);
    yield json;
    yield* r.rest();
    return;
  }
  if (zLen === 0 || zLen > len + 64 * 1024)
    throw new WireError("TOO_LARGE", `${form.name} header carries ${zLen} compressed bytes for ${len}`);
  const header = inflate(await r.exact(zLen), len, `the ${form.name} header`);
  yield prefix(DELTA_MAGIC, form.v!, len);
  yield header;
  yield* r.rest();
}
