// keel-tree-1: Keel's archive for the plain-directory backend (hosts without btrfs).
//   "KEELTREE" u32be version=1, then records: u32be headerLength, JSON header, [file data]
//   {t:"d", p, m, u, g, mt}         directory ("." is the root; parents come before children)
//   {t:"f", p, m, u, g, mt, s}      regular file, followed by s bytes of content
//   {t:"l", p, target, u, g, mt}    symlink (target is never followed)
//   {t:"h", p, to}                  hard link to an earlier file of this tree
//   {t:"P", p, m, u, g, mt, s, sha} unchanged file: hard-link the parent version's file at the
//                                   same path after checking its type, size, mode, owner, SHA-256
//   {t:"c"|"b", p, m, u, g, rdev}   device node (reported; the plain backend cannot create them)
//   {t:"e", files, bytes}           end marker; nothing may follow
// Paths are relative, "/"-separated, without "", "." or ".." components, and every parent must be
// a directory declared earlier in the same stream — so nothing can be written through a symlink.
import { createHash } from "node:crypto";
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  chmodSync, chownSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import type { SpecialReport } from "../../protocol";
import { fileSha256 } from "../tree-digest";
import { StreamProblem } from "./send-stream";

const MAGIC = Buffer.from("KEELTREE", "latin1");
const PREAMBLE = MAGIC.length + 4;
const MAX_HEADER = 64 * 1024;

export type TreeRecord =
  | { t: "d"; p: string; m: number; u: number; g: number; mt: number }
  | { t: "f"; p: string; m: number; u: number; g: number; mt: number; s: number }
  | { t: "l"; p: string; target: string; u: number; g: number; mt: number }
  | { t: "h"; p: string; to: string }
  | { t: "P"; p: string; m: number; u: number; g: number; mt: number; s: number; sha: string }
  | { t: "c" | "b"; p: string; m: number; u: number; g: number; rdev: number }
  | { t: "e"; files: number; bytes: number };

function bad(message: string): never {
  throw new StreamProblem("BAD_STREAM", message);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Validates one record header against the tree so far (dirs and files declared earlier). */
function checkRecord(r: TreeRecord, dirs: Set<string>, files: Set<string>, hasParent: boolean): void {
  if (r.t === "e") {
    if (!isInt(r.files) || !isInt(r.bytes)) bad("bad end record");
    return;
  }
  if (typeof r.p !== "string") bad("record without a path");
  if (r.p === ".") {
    if (r.t !== "d" || dirs.size !== 0) bad("the root must be the first record and a directory");
  } else {
    if (dirs.size === 0) bad("the first record must be the root directory");
    const parts = r.p.split("/");
    if (r.p.includes("\0") || parts.some((x) => x === "" || x === "." || x === "..")) bad(`path ${JSON.stringify(r.p)} leaves the tree`);
    const parent = parts.slice(0, -1).join("/") || ".";
    if (!dirs.has(parent)) bad(`${JSON.stringify(r.p)} comes before its directory`);
    if (dirs.has(r.p) || files.has(r.p)) bad(`${JSON.stringify(r.p)} appears twice`);
  }
  const ints = (...vs: unknown[]) => vs.every(isInt) || bad(`bad numbers in the record of ${JSON.stringify(r.p)}`);
  switch (r.t) {
    case "d":
      ints(r.m, r.u, r.g, r.mt);
      dirs.add(r.p);
      return;
    case "f":
      ints(r.m, r.u, r.g, r.mt, r.s);
      files.add(r.p);
      return;
    case "P":
      ints(r.m, r.u, r.g, r.mt, r.s);
      if (!hasParent) bad("the stream links files from a parent but the manifest names none");
      if (typeof r.sha !== "string" || !/^[0-9a-f]{64}$/.test(r.sha)) bad("bad parent file digest");
      files.add(r.p);
      return;
    case "l":
      ints(r.u, r.g, r.mt);
      if (typeof r.target !== "string" || r.target.length === 0 || r.target.length > 4095) bad("bad symlink target");
      files.add(r.p);
      return;
    case "h":
      if (typeof r.to !== "string" || !files.has(r.to)) bad(`hard link ${JSON.stringify(r.p)} points at no earlier file`);
      files.add(r.p);
      return;
    case "c":
    case "b":
      ints(r.m, r.u, r.g, r.rdev);
      files.add(r.p);
      return;
    default:
      bad(`unknown record type ${JSON.stringify((r as { t: unknown }).t)}`);
  }
}

/** Streaming parser: push() bytes; onRecord gets each checked header and then its file data. */
export class TreeStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  private started = false;
  private ended = false;
  private dataLeft = 0;
  private dirs = new Set<string>();
  private files = new Set<string>();
  readonly special: SpecialReport = { setuid: [], capabilities: [], devices: [] };

  constructor(
    private readonly hasParent: boolean,
    private readonly onRecord?: (r: TreeRecord) => void,
    private readonly onData?: (d: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length) bad("the stream has bytes after its end marker");
      return;
    }
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    if (!this.started) {
      if (data.length < PREAMBLE) {
        this.buf = Buffer.from(data);
        return;
      }
      if (!data.subarray(0, MAGIC.length).equals(MAGIC)) bad("not a keel-tree-1 stream (bad magic)");
      if (data.readUInt32BE(MAGIC.length) !== 1) bad("unsupported keel-tree version");
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
      if (len === 0 || len > MAX_HEADER) bad(`record header of ${len} bytes`);
      if (data.length - off < 4 + len) break;
      let r: TreeRecord;
      try {
        r = JSON.parse(data.subarray(off + 4, off + 4 + len).toString("utf8")) as TreeRecord;
      } catch {
        bad("a record header is not JSON");
      }
      off += 4 + len;
      checkRecord(r, this.dirs, this.files, this.hasParent);
      if ((r.t === "f" || r.t === "P" || r.t === "d") && r.m & 0o6000 && this.special.setuid.length < 100) this.special.setuid.push(r.p);
      if ((r.t === "c" || r.t === "b") && this.special.devices.length < 100) this.special.devices.push(r.p);
      if (r.t === "e") this.ended = true;
      this.onRecord?.(r);
      if (r.t === "f") this.dataLeft = r.s;
    }
    data = data.subarray(off);
    this.buf = data.length ? Buffer.from(data) : Buffer.alloc(0);
  }

  finish(): SpecialReport {
    if (!this.started) bad("the stream is empty or shorter than its header");
    if (!this.ended) bad("the stream has no end marker (truncated?)");
    return this.special;
  }
}

// ---- unpacking ---------------------------------------------------------------------------------

/** Checks that every directory on the way to parentRoot/rel is a real directory (no symlink). */
function parentFile(parentRoot: string, rel: string, checked: Set<string>): string {
  const parts = rel.split("/");
  let dir = "";
  for (const part of parts.slice(0, -1)) {
    dir = dir ? `${dir}/${part}` : part;
    if (checked.has(dir)) continue;
    const st = lstatSync(join(parentRoot, dir), { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) throw new StreamProblem("PARENT_MISMATCH", `the parent has no directory ${dir}`);
    checked.add(dir);
  }
  return join(parentRoot, rel);
}

/** Unpacks a verified keel-tree-1 stream from fd into dest (which must not exist). */
export function unpackTreeStream(fd: number, dest: string, parentRoot: string | null): void {
  const dirTimes: [string, number][] = [];
  const checkedParentDirs = new Set<string>();
  const hashBuf = Buffer.allocUnsafe(1024 * 1024);
  let out = -1;
  let current: Extract<TreeRecord, { t: "f" }> | null = null;
  let written = 0;
  const finishFile = () => {
    if (out < 0 || !current) return;
    fchownSync(out, current.u, current.g);
    fchmodSync(out, current.m & 0o7777);
    futimesSync(out, current.mt / 1000, current.mt / 1000);
    closeSync(out);
    out = -1;
    current = null;
  };
  const parser = new TreeStreamParser(
    parentRoot !== null,
    (r) => {
      if (r.t === "e") return;
      const path = r.p === "." ? dest : join(dest, r.p);
      switch (r.t) {
        case "d":
          mkdirSync(path, { mode: 0o700 });
          chownSync(path, r.u, r.g);
          chmodSync(path, r.m & 0o7777);
          dirTimes.push([path, r.mt]);
          return;
        case "f":
          out = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
          current = r;
          written = 0;
          if (r.s === 0) finishFile();
          return;
        case "l":
          symlinkSync(r.target, path);
          lchownSync(path, r.u, r.g);
          lutimesSync(path, r.mt / 1000, r.mt / 1000);
          return;
        case "h":
          linkSync(join(dest, r.to), path);
          return;
        case "P": {
          if (!parentRoot) throw new StreamProblem("PARENT_MISMATCH", "no parent");
          const src = parentFile(parentRoot, r.p, checkedParentDirs);
          const st = lstatSync(src, { throwIfNoEntry: false });
          if (!st || !st.isFile() || st.size !== r.s || (st.mode & 0o7777) !== (r.m & 0o7777) || st.uid !== r.u || st.gid !== r.g || fileSha256(src, hashBuf) !== r.sha) {
            throw new StreamProblem("PARENT_MISMATCH", `the parent's ${r.p} is not the file this update was built against`);
          }
          linkSync(src, path);
          return;
        }
        case "c":
        case "b":
          throw new StreamProblem("BAD_STREAM", `the plain-directory backend cannot create device node ${r.p}`);
      }
    },
    (d) => {
      let off = 0;
      while (off < d.length) off += writeSync(out, d, off, d.length - off);
      written += d.length;
      if (current && written === current.s) finishFile();
    },
  );
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    parser.push(buf.subarray(0, n));
    pos += n;
  }
  parser.finish();
  for (const [path, mt] of dirTimes.reverse()) utimesSync(path, mt / 1000, mt / 1000);
}

// ---- writing (build) ---------------------------------------------------------------------------

export interface TreeStreamStats {
  bytes: number;
  files: number;
  treeBytes: number;
  linkedFromParent: number;
}

/** Writes srcDir as a keel-tree-1 stream to outPath; files identical to parentDir's are P records. */
export function writeTreeStream(srcDir: string, parentDir: string | null, outPath: string): TreeStreamStats {
  const out = openSync(outPath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  const stats: TreeStreamStats = { bytes: 0, files: 0, treeBytes: 0, linkedFromParent: 0 };
  const hashBuf = Buffer.allocUnsafe(1024 * 1024);
  const put = (b: Buffer) => {
    let off = 0;
    while (off < b.length) off += writeSync(out, b, off, b.length - off);
    stats.bytes += b.length;
  };
  const record = (r: TreeRecord) => {
    const h = Buffer.from(JSON.stringify(r), "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(h.length);
    put(len);
    put(h);
  };
  const seen = new Map<string, string>();
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    const base = { p: rel, u: st.uid, g: st.gid, mt: Math.floor(st.mtimeMs) };
    if (rel !== ".") stats.files++;
    if (st.isDirectory()) {
      record({ t: "d", ...base, m: st.mode & 0o7777 });
      const names = readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare).map((b) => b.toString("utf8"));
      for (const n of names) visit(join(abs, n), rel === "." ? n : `${rel}/${n}`);
      return;
    }
    if (st.isSymbolicLink()) {
      record({ t: "l", ...base, target: readlinkSync(abs) });
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      record({ t: st.isCharacterDevice() ? "c" : "b", p: rel, m: st.mode & 0o7777, u: st.uid, g: st.gid, rdev: st.rdev });
      return;
    }
    if (!st.isFile()) throw new Error(`${rel}: fifos and sockets are not supported in keel-tree-1`);
    stats.treeBytes += st.size;
    const inode = `${st.dev}:${st.ino}`;
    const first = seen.get(inode);
    if (first) {
      record({ t: "h", p: rel, to: first });
      return;
    }
    seen.set(inode, rel);
    if (parentDir) {
      const pst = lstatSync(join(parentDir, rel), { throwIfNoEntry: false });
      if (pst && pst.isFile() && pst.size === st.size && (pst.mode & 0o7777) === (st.mode & 0o7777) && pst.uid === st.uid && pst.gid === st.gid) {
        const sha = fileSha256(abs, hashBuf);
        if (fileSha256(join(parentDir, rel), hashBuf) === sha) {
          record({ t: "P", ...base, m: st.mode & 0o7777, s: st.size, sha });
          stats.linkedFromParent++;
          return;
        }
      }
    }
    record({ t: "f", ...base, m: st.mode & 0o7777, s: st.size });
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let left = st.size;
      while (left > 0) {
        const n = readSync(fd, hashBuf, 0, Math.min(hashBuf.length, left), null);
        if (n === 0) throw new Error(`${rel} shrank while it was archived`);
        put(hashBuf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
  };
  try {
    const pre = Buffer.alloc(PREAMBLE);
    MAGIC.copy(pre);
    pre.writeUInt32BE(1, MAGIC.length);
    put(pre);
    visit(srcDir, ".");
    record({ t: "e", files: stats.files, bytes: stats.treeBytes });
  } finally {
    closeSync(out);
  }
  return stats;
}

export function sha256Of(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}
