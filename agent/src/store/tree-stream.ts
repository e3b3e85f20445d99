// keel-tree-1: Keel's archive for the plain-directory backend (hosts without btrfs).
//   "KEELTREE" u32be version=1, then records: u32be headerLength, JSON header, [file data]
//   {t:"d", p, u, g, mt, m}         directory ("." is the root; parents come before children)
//   {t:"f", p, u, g, mt, m, s}      regular file, followed by s bytes of content
//   {t:"l", p, u, g, mt, target}    symlink (target is never followed)
//   {t:"h", p, to}                  hard link to an earlier regular file of this tree
//   {t:"P", p, u, g, mt, m, s, sha} unchanged file: hard-link the parent version's file at the
//                                   same path after checking its type, size, mode, owner, SHA-256
//   {t:"c"|"b", p, m, u, g, rdev}   device node (reported; the plain backend cannot create them)
//   {t:"e", files, bytes}           end marker: the entry count (root excluded) and the bytes of
//                                   regular files (hard links included); nothing may follow
// A header must be exactly what JSON.stringify writes for its value (byte for byte): so every
// number is an exact integer written plainly, no key appears twice, nothing is escaped that need
// not be — one header, one meaning. Each record has exactly the keys above: the format has no
// xattrs, ACLs or capabilities, and an unknown key (an xattr a future reader might apply) is
// refused. Modes are permission bits only (the type is `t`): nothing outside 0o7777. Paths are
// relative, "/"-separated, well-formed UTF-8 without control characters, without "", "." or ".."
// components, and every parent must be a directory declared earlier in the same stream — so
// nothing can be written through a symlink or a file, and nothing appears twice.
import { isUtf8 } from "node:buffer";
import type { ReleaseTree, SpecialReport } from "../../protocol";
import { StreamProblem } from "./send-stream";

export const MAGIC = Buffer.from("KEELTREE", "latin1");
export const PREAMBLE = MAGIC.length + 4;
export const MAX_HEADER = 64 * 1024;
/** uid/gid 0xffffffff is chown's "leave unchanged" (the file would stay root's): never a real owner. */
const MAX_ID = 0xfffffffe;
const MAX_PATH_BYTES = 4095;
const MAX_NAME_BYTES = 255;
/** C0 controls, DEL and C1 controls: no path or link target carries them. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export type TreeRecord =
  | { t: "d"; p: string; m: number; u: number; g: number; mt: number }
  | { t: "f"; p: string; m: number; u: number; g: number; mt: number; s: number }
  | { t: "l"; p: string; target: string; u: number; g: number; mt: number }
  | { t: "h"; p: string; to: string }
  | { t: "P"; p: string; m: number; u: number; g: number; mt: number; s: number; sha: string }
  | { t: "c" | "b"; p: string; m: number; u: number; g: number; rdev: number }
  | { t: "e"; files: number; bytes: number };

const KEYS: Record<string, readonly string[]> = {
  d: ["t", "p", "m", "u", "g", "mt"],
  f: ["t", "p", "m", "u", "g", "mt", "s"],
  l: ["t", "p", "target", "u", "g", "mt"],
  h: ["t", "p", "to"],
  P: ["t", "p", "m", "u", "g", "mt", "s", "sha"],
  c: ["t", "p", "m", "u", "g", "rdev"],
  b: ["t", "p", "m", "u", "g", "rdev"],
  e: ["t", "files", "bytes"],
};

function bad(message: string): never {
  throw new StreamProblem("BAD_STREAM", message);
}

const q = (s: string) => JSON.stringify(s);

/** A path or link target a person can read and the kernel takes as is: well-formed, no control characters. */
export function nameProblem(s: string): string | null {
  // A lone surrogate (JSON can escape one) has no UTF-8 form: the kernel would get U+FFFD instead.
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return "is not well-formed UTF-8";
  if (CONTROL.test(s)) return "contains a control character";
  return null;
}

function checkPath(p: string): void {
  const why = nameProblem(p);
  if (why) bad(`the stream names a path that ${why}: ${q(p)}`);
  const bytes = Buffer.byteLength(p);
  if (bytes > MAX_PATH_BYTES) bad(`the path ${q(p.slice(0, 80))}… is longer than ${MAX_PATH_BYTES} bytes`);
  for (const part of p.split("/")) {
    if (part === "" || part === "." || part === "..")
      bad(`the stream names a path outside the tree: ${q(p)}`);
    if (bytes > MAX_NAME_BYTES && Buffer.byteLength(part) > MAX_NAME_BYTES)
      bad(`the path ${q(p)} has a name longer than ${MAX_NAME_BYTES} bytes`);
  }
}

/**
 * What the stream declared so far at a path, compact (one Map value per entry, no object): a
 * regular file's size (≥ 0), DIR, OTHER (a device), or a symlink's target (a string).
 */
type Entry = number | string;
const DIR = -1;
const OTHER = -2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The common case of a header, fast: a flat object whose keys are letters and whose values are
 * strings without escapes or control characters, or integers below 10^15 without leading zeros —
 * text that JSON.stringify writes exactly so. Returns null for anything else (then JSON.parse and
 * the JSON.stringify comparison decide): it only ever accepts what that slower path accepts.
 */
export function parseCanonicalFlat(text: string): Record<string, string | number> | null {
  const n = text.length;
  if (n < 2 || text.charCodeAt(0) !== 0x7b || text.charCodeAt(n - 1) !== 0x7d) return null;
  const out: Record<string, string | number> = {};
  if (n === 2) return out;
  let i = 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return null;
    let j = i + 1;
    for (
      let c = text.charCodeAt(j);
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
      c = text.charCodeAt(++j)
    );
    if (j === i + 1 || text.charCodeAt(j) !== QUOTE || text.charCodeAt(j + 1) !== 0x3a) return null;
    const key = text.slice(i + 1, j);
    if (Object.hasOwn(out, key)) return null;
    i = j + 2;
    if (text.charCodeAt(i) === QUOTE) {
      j = i + 1;
      for (let c = text.charCodeAt(j); c !== QUOTE; c = text.charCodeAt(++j)) {
        if (c === BACKSLASH || c < 0x20 || j >= n) return null; // NaN past the end compares false: j >= n stops it
      }
      out[key] = text.slice(i + 1, j);
      i = j + 1;
    } else {
      j = i;
      for (let c = text.charCodeAt(j); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++j));
      const len = j - i;
      if (len === 0 || len > 15 || (len > 1 && text.charCodeAt(i) === 0x30)) return null;
      out[key] = Number(text.slice(i, j));
      i = j;
    }
    const c = text.charCodeAt(i);
    if (c === 0x7d && i === n - 1) return out;
    if (c !== 0x2c) return null;
    i++;
  }
}

/** The stream so far: every entry by path, counts for the end record. */
class TreeSoFar {
  readonly entries = new Map<string, Entry>();
  files = 0;
  bytes = 0;

  /** Why `parent` (the directory of p) cannot hold p: it is undeclared, a symlink or a file. */
  private parentProblem(p: string, parent: string): string {
    // The nearest declared ancestor tells what the stream tried: through a symlink, under a file.
    for (let a = parent; a !== "."; a = a.includes("/") ? a.slice(0, a.lastIndexOf("/")) : ".") {
      const e = this.entries.get(a);
      if (e === undefined) continue;
      if (typeof e === "string") return `the stream writes through a symlink (${a} → ${e}) at ${q(p)}`;
      if (e !== DIR) return `the stream puts ${q(p)} under ${a}, which is a file, not a directory`;
      break;
    }
    return `${q(p)} comes before its directory ${q(parent)}`;
  }

  /** The size of an earlier regular file at p (f, P or h record), or null. */
  fileSize(p: string): number | null {
    const e = this.entries.get(p);
    return typeof e === "number" && e >= 0 ? e : null;
  }

  add(r: Exclude<TreeRecord, { t: "e" }>, size: number): void {
    if (r.p === ".") {
      if (r.t !== "d") bad("the root of the tree must be a directory");
      if (this.entries.size !== 0)
        bad(this.entries.has(".") ? `the root "." appears twice` : "the root must be the first record");
    } else {
      if (this.entries.size === 0) bad("the first record must be the root directory");
      checkPath(r.p);
      const cut = r.p.lastIndexOf("/");
      const parent = cut < 0 ? "." : r.p.slice(0, cut);
      if (this.entries.get(parent) !== DIR) bad(this.parentProblem(r.p, parent));
      if (this.entries.has(r.p)) bad(`${q(r.p)} appears twice in the stream`);
      this.files++;
      this.bytes += size;
    }
    const t = r.t;
    this.entries.set(
      r.p,
      t === "d" ? DIR : t === "l" ? r.target : t === "f" || t === "P" || t === "h" ? size : OTHER,
    );
  }
}

export interface TreeExpectation {
  /** The stream has a parent version (P records allowed). */
  hasParent: boolean;
  /** The stream's exact length (the signed manifest's, or the staged file's). */
  streamBytes: number;
  /** The manifest's tree: the end record must count exactly its entries and bytes. */
  tree?: Pick<ReleaseTree, "files" | "bytes">;
}

/** Checks one parsed header against its exact keys, value ranges and the tree so far. */
function checkRecord(r: TreeRecord, tree: TreeSoFar, expect: TreeExpectation, left: number): void {
  // Built only for an error message (JSON-quoting every path up front costs a receive ~10 %).
  const where = () => ("p" in r && typeof r.p === "string" ? ` of ${q(r.p)}` : "");
  const keys = KEYS[r.t];
  if (!keys) bad(`unknown record type ${q(String(r.t))}`);
  let n = 0;
  for (const k in r) {
    if (!keys.includes(k)) {
      const extra = Object.keys(r).filter((x) => !keys.includes(x));
      bad(
        `the record${where()} carries ${extra.map(q).join(", ")}, which keel-tree-1 does not have (no xattrs, ACLs or capabilities)`,
      );
    }
    n++;
  }
  if (n !== keys.length) bad(`the record${where()} lacks ${keys.filter((k) => !(k in r)).join(", ")}`);
  const num = (v: unknown, max: number, what: string) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max)
      bad(`the record${where()} has ${what} ${JSON.stringify(v)}, not an integer 0–${max}`);
  };
  if (r.t === "e") {
    num(r.files, Number.MAX_SAFE_INTEGER, "an entry count");
    num(r.bytes, Number.MAX_SAFE_INTEGER, "a byte count");
    if (r.files !== tree.files || r.bytes !== tree.bytes) {
      bad(
        `the end record counts ${r.files} entries and ${r.bytes} bytes, the stream holds ${tree.files} and ${tree.bytes}`,
      );
    }
    return;
  }
  if (typeof r.p !== "string") bad("a record has no path");
  if ("m" in r) {
    num(r.m, Number.MAX_SAFE_INTEGER, "a mode");
    if (r.m > 0o7777)
      bad(`the record${where()} has mode 0o${r.m.toString(8)}: bits outside the permission bits 0o7777`);
  }
  if ("u" in r) {
    num(r.u, MAX_ID, "an owner uid");
    num(r.g, MAX_ID, "a group gid");
  }
  if ("mt" in r) num(r.mt, Number.MAX_SAFE_INTEGER, "a modification time");
  let size = 0;
  switch (r.t) {
    case "f":
      num(r.s, Number.MAX_SAFE_INTEGER, "a size");
      if (r.s > left)
        bad(`the record${where()} declares ${r.s} bytes of content, but the stream has ${left} bytes left`);
      size = r.s;
      break;
    case "P":
      num(r.s, Number.MAX_SAFE_INTEGER, "a size");
      if (!expect.hasParent)
        bad(`the stream links ${q(r.p)} from a parent version, but the manifest names none`);
      if (typeof r.sha !== "string" || !/^[0-9a-f]{64}$/.test(r.sha))
        bad(`the record${where()} has a bad parent file digest`);
      size = r.s;
      break;
    case "l": {
      if (
        typeof r.target !== "string" ||
        r.target.length === 0 ||
        Buffer.byteLength(r.target) > MAX_PATH_BYTES
      )
        bad(`the symlink${where()} has a bad target`);
      const why = nameProblem(r.target);
      if (why) bad(`the symlink${where()} has a target that ${why}: ${q(r.target)}`);
      break;
    }
    case "h": {
      const to = typeof r.to === "string" ? tree.fileSize(r.to) : null;
      if (to === null)
        bad(
          `the hard link${where()} points at ${q(String(r.to))}, which is no earlier regular file of the stream`,
        );
      size = to;
      break;
    }
    case "c":
    case "b":
      num(r.rdev, 0xffffffff, "a device number");
      break;
  }
  tree.add(r, size);
  if (expect.tree && tree.files > expect.tree.files)
    bad(`the stream has more entries than the ${expect.tree.files} its manifest declares`);
}

/** Streaming parser: push() bytes; onRecord gets each checked header and then its file data. */
export class TreeStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  private started = false;
  private ended = false;
  private dataLeft = 0;
  private tree = new TreeSoFar();
  readonly special: SpecialReport = { setuid: [], capabilities: [], devices: [] };

  constructor(
    private readonly expect: TreeExpectation,
    private readonly onRecord?: (r: TreeRecord) => void,
    private readonly onData?: (d: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length) bad("the stream has bytes after its end marker");
      return;
    }
    const data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    if (!this.started) {
      if (data.length < PREAMBLE) {
        this.buf = Buffer.from(data);
        return;
      }
      if (!data.subarray(0, MAGIC.length).equals(MAGIC)) bad("not a keel-tree-1 stream (bad magic)");
      if (data.readUInt32BE(MAGIC.length) !== 1)
        bad(`keel-tree version ${data.readUInt32BE(MAGIC.length)} is not supported (only 1)`);
      this.started = true;
      off = PREAMBLE;
    }
    for (;;) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, data.length - off);
        if (n > 0) this.onData?.(data.subarray(off, off + n));
        this.dataLeft -= n;
        off += n;
        if (this.dataLeft > 0) break;
      }
      if (this.ended) {
        if (off !== data.length) bad("the stream has bytes after its end marker");
        break;
      }
      if (data.length - off < 4) break;
      const len = data.readUInt32BE(off);
      if (len === 0 || len > MAX_HEADER) bad(`a record header claims ${len} bytes (limit ${MAX_HEADER})`);
      if (data.length - off < 4 + len) break;
      const r = this.header(data.subarray(off + 4, off + 4 + len), this.base + off);
      off += 4 + len;
      checkRecord(r, this.tree, this.expect, this.expect.streamBytes - (this.base + off));
      if ((r.t === "f" || r.t === "P" || r.t === "d") && r.m & 0o6000 && this.special.setuid.length < 100)
        this.special.setuid.push(r.p);
      if ((r.t === "c" || r.t === "b") && this.special.devices.length < 100) this.special.devices.push(r.p);
      if (r.t === "e") {
        this.ended = true;
        if (this.expect.tree && (r.files !== this.expect.tree.files || r.bytes !== this.expect.tree.bytes)) {
          bad(
            `the stream holds ${r.files} entries and ${r.bytes} bytes, the manifest says ${this.expect.tree.files} and ${this.expect.tree.bytes}`,
          );
        }
      }
      this.onRecord?.(r);
      if (r.t === "f") this.dataLeft = r.s;
    }
    this.base += off;
    const rest = data.subarray(off);
    this.buf = rest.length ? Buffer.from(rest) : Buffer.alloc(0);
  }

  /** Parses a header; it must be valid UTF-8, an object, and exactly what JSON.stringify writes for it. */
  private header(bytes: Buffer, at: number): TreeRecord {
    if (!isUtf8(bytes)) bad(`the record header at byte ${at} is not written canonically (invalid UTF-8)`);
    const text = bytes.toString("utf8");
    const fast = parseCanonicalFlat(text);
    if (fast) return fast as TreeRecord;
    let r: unknown;
    try {
      r = JSON.parse(text);
    } catch {
      bad(`the record header at byte ${at} is not JSON`);
    }
    if (typeof r !== "object" || r === null || Array.isArray(r))
      bad(`the record header at byte ${at} is not a JSON object`);
    if (JSON.stringify(r) !== text) {
      const p = typeof (r as { p?: unknown }).p === "string" ? ` of ${q((r as { p: string }).p)}` : "";
      bad(
        `the record header${p} is not written canonically (numbers that are not plain integers, a key twice, invalid UTF-8 or needless escapes)`,
      );
    }
    return r as TreeRecord;
  }

  finish(): SpecialReport {
    if (!this.started) bad("the stream is empty or shorter than its header");
    if (this.dataLeft > 0) bad(`the stream ends ${this.dataLeft} bytes before the end of its last file`);
    if (!this.ended) bad("the stream ends without its end marker");
    return this.special;
  }
}
