// The compact delta header of the wire form `keel-delta-c` (decision 0044). A delta's JSON
// header (format.ts, DeltaHeader) lists every parent file the body copies from with its size and
// SHA-256, and the target's size and SHA-256: on a small update it is most of the delta (semver
// 7.6.2 → 7.6.3: 637 bytes of JSON, 353 compressed, beside a 611-byte body). On the wire it goes as
//
//   varint format version (1 or 2), varint targetBytes, 32 bytes target SHA-256, varint fileCount,
//   per parent file, in the header's order: varint shared (bytes of the previous file's path kept),
//   varint suffixLen, suffix (UTF-8), varint bytes, the first PARENT_DIGEST_BYTES of its SHA-256
//
// and the host turns it back into a JSON header whose parent digests are those prefixes (16 hex
// digits). The parent digests are not what makes a receive safe — every decoded chunk and the whole
// stream are verified against the signed manifest — they name the parent file that differs when a
// decoded stream fails those digests (parent-files.ts, findDigestMismatch); 64 bits do that.
// The target's SHA-256 stays whole: the decoder checks what it produced against it.
import {
  DELTA_FORMAT_VERSIONS,
  type DeltaError,
  parseHeader,
  pushVarint,
  type DeltaHeader,
} from "../delta/format";
import { WireError } from "./wire-reader";

/** Bytes of each parent file's SHA-256 kept on the wire (16 hex digits in the expanded header). */
export const PARENT_DIGEST_BYTES = 8;
/** What the expanded header names as its encoder. */
const ENCODER = "keel-delta (keel-delta-c header)";

/** Console side: the JSON header of a delta of format `version` → the compact binary header. */
export function compactHeader(version: 1 | 2, json: Buffer): Buffer {
  let h: DeltaHeader;
  try {
    h = parseHeader(json.toString("utf8"));
  } catch (e) {
    throw new WireError("CORRUPT", `the delta header cannot be made compact: ${(e as DeltaError).message}`);
  }
  const out: number[] = [version];
  pushVarint(out, h.target.bytes);
  const parts: Buffer[] = [];
  const flush = () => {
    parts.push(Buffer.from(out));
    out.length = 0;
  };
  flush();
  parts.push(Buffer.from(h.target.sha256, "hex"));
  pushVarint(out, h.parent.files.length);
  let prev = Buffer.alloc(0);
  for (const f of h.parent.files) {
    if (f.sha256.length !== 64)
      throw new WireError("CORRUPT", `parent file ${f.path} has no whole SHA-256 to shorten`);
    const path = Buffer.from(f.path, "utf8");
    let shared = 0;
    const max = Math.min(path.length, prev.length);
    while (shared < max && path[shared] === prev[shared]) shared++;
    pushVarint(out, shared);
    pushVarint(out, path.length - shared);
    flush();
    parts.push(path.subarray(shared));
    pushVarint(out, f.bytes);
    flush();
    parts.push(Buffer.from(f.sha256.slice(0, PARENT_DIGEST_BYTES * 2), "hex"));
    prev = path;
  }
  flush(); // the file count, when no file followed it
  return Buffer.concat(parts);
}

/**
 * Host side: the compact header → the JSON header the delta decoder reads (it validates it again:
 * safe paths, counts). Malformed input is CORRUPT; a JSON header over `maxJson` bytes is TOO_LARGE.
 */
export function expandCompactHeader(b: Buffer, maxJson: number): { version: number; json: Buffer } {
  let at = 0;
  const bad = (what: string) => new WireError("CORRUPT", `keel-delta-c header: ${what}`);
  const varint = (what: string): number => {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (at >= b.length) throw bad(`ends inside ${what}`);
      const c = b[at++]!;
      n += (c & 0x7f) * mul;
      if (c < 0x80) {
        if (!Number.isSafeInteger(n)) break;
        return n;
      }
      mul *= 0x80;
    }
    throw bad(`${what} is not a valid number`);
  };
  const bytes = (n: number, what: string): Buffer => {
    if (n > b.length - at) throw bad(`ends inside ${what}`);
    const out = b.subarray(at, at + n);
    at += n;
    return out;
  };
  const version = varint("the format version");
  if (!DELTA_FORMAT_VERSIONS.includes(version)) throw bad(`format version ${version} is not known`);
  const targetBytes = varint("the target size");
  const targetSha = bytes(32, "the target digest").toString("hex");
  const count = varint("the file count");
  // Each entry takes at least 3 varint bytes and its digest: a count beyond that is a lie.
  if (count > (b.length - at) / (3 + PARENT_DIGEST_BYTES)) throw bad(`${count} parent files do not fit`);
  const pieces: string[] = [
    `{"target":${JSON.stringify({ bytes: targetBytes, sha256: targetSha })},"parent":{"files":[`,
  ];
  let total = pieces[0]!.length;
  let prev = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const shared = varint(`parent file ${i}`);
    if (shared > prev.length) throw bad(`parent file ${i} keeps more of the previous path than it has`);
    const suffix = bytes(varint(`parent file ${i}`), `parent file ${i}'s path`);
    const path = Buffer.concat([prev.subarray(0, shared), suffix]);
    const size = varint(`parent file ${i}'s size`);
    const digest = bytes(PARENT_DIGEST_BYTES, `parent file ${i}'s digest`).toString("hex");
    const entry = `${i ? "," : ""}${JSON.stringify({ path: path.toString("utf8"), bytes: size, sha256: digest })}`;
    total += Buffer.byteLength(entry);
    if (total > maxJson)
      throw new WireError("TOO_LARGE", `keel-delta-c header expands past ${maxJson} bytes`);
    pieces.push(entry);
    prev = path;
  }
  if (at !== b.length) throw bad(`${b.length - at} bytes after the last parent file`);
  pieces.push(`]},"encoder":${JSON.stringify(ENCODER)}}`);
  return { version, json: Buffer.from(pieces.join(""), "utf8") };
}
