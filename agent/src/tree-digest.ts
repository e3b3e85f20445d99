// Walking a release tree: the entry count and byte total every receive checks, the special
// content it reports (setuid/setgid anywhere including the root, device nodes), and Keel's tree
// digests that build records in the manifest, receive checks and `verify` recomputes. Symlinks are
// never followed. Every inode is visited, the root first.
//
// Tree digest: SHA-256 over one JSON line per entry, entries in byte order of their paths
// (depth-first, children sorted by their name's bytes), the root itself first as ".":
//   manifestVersion 1: [path, type, mode & 07777, uid, gid, detail]
//   manifestVersion 2: [path, type, mode & 07777, uid, gid, detail, xattrs]
//     detail = file: "<size>:<content sha256>", symlink: target, device: "<rdev>",
//              directory/fifo/socket: ""
//     xattrs = [[name, base64 value], …] sorted by the name's bytes ([] for none), without the
//              labels a host's security module sets by itself (xattr-names.ts isHostLabel)
// The meta digest (manifestVersion 2, `tree.metaSha256`) is the same with a file's detail being
// "<size>" only: it needs no file contents, so every receive can afford it.
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { isHostLabel } from "./store/xattr-names";

/** Extended attributes of a tree by path (the path's bytes as latin1, "" for the root) → [name, value]. */
export type XattrMap = ReadonlyMap<string, readonly (readonly [string, Buffer])[]>;

export interface TreeWalk {
  files: number;
  bytes: number;
  setuid: string[];
  devices: string[];
  /** Present when the walk computed contents (withDigest). */
  sha256?: string;
  /** Present with opts.meta (version 2 only). */
  metaSha256?: string;
}

function typeOf(st: Stats): string {
  if (st.isDirectory()) return "d";
  if (st.isFile()) return "f";
  if (st.isSymbolicLink()) return "l";
  if (st.isCharacterDevice()) return "c";
  if (st.isBlockDevice()) return "b";
  if (st.isFIFO()) return "p";
  return "s";
}

export function fileSha256(path: string, buf: Buffer): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function sortedNames(dir: string): Buffer[] {
  return readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
}

function xattrField(list: readonly (readonly [string, Buffer])[] | undefined): [string, string][] {
  if (!list || list.length === 0) return [];
  return list
    .filter(([n]) => !isHostLabel(n))
    .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])))
    .map(([n, v]) => [n, v.toString("base64")]);
}

export interface WalkOptions {
  /** Read every file and compute `sha256` (the full digest). */
  withDigest: boolean;
  /** Compute `metaSha256` (manifestVersion 2 only). */
  meta?: boolean;
  /** Which digest lines (default 2). */
  manifestVersion?: 1 | 2;
  /** The tree's extended attributes (btrfs: read from the kernel, store/subvolume-xattrs.ts). */
  xattrs?: XattrMap;
}

/** Walks root; with withDigest it also reads every file and returns the tree digest. */
export function walkTree(root: string, opts: WalkOptions): TreeWalk {
  const out: TreeWalk = { files: 0, bytes: 0, setuid: [], devices: [] };
  const v2 = (opts.manifestVersion ?? 2) === 2;
  const digest = opts.withDigest ? createHash("sha256") : null;
  const meta = opts.meta && v2 ? createHash("sha256") : null;
  const buf = opts.withDigest ? Buffer.allocUnsafe(1024 * 1024) : Buffer.alloc(0);
  const entry = (path: string, relPath: string, key: string, st: Stats) => {
    const type = typeOf(st);
    if (st.mode & 0o6000 && out.setuid.length < 100) out.setuid.push(relPath);
    if ((type === "c" || type === "b") && out.devices.length < 100) out.devices.push(relPath);
    if (!digest && !meta) return type;
    let detail = "";
    if (type === "l") detail = readlinkSync(path);
    else if (type === "c" || type === "b") detail = String(st.rdev);
    const x = v2 ? xattrField(opts.xattrs?.get(key)) : null;
    const line = (d: string) =>
      JSON.stringify(
        x
          ? [relPath, type, st.mode & 0o7777, st.uid, st.gid, d, x]
          : [relPath, type, st.mode & 0o7777, st.uid, st.gid, d],
      ) + "\n";
    if (digest) digest.update(line(type === "f" ? `${st.size}:${fileSha256(path, buf)}` : detail));
    if (meta) meta.update(line(type === "f" ? String(st.size) : detail));
    return type;
  };
  const visit = (dir: string, rel: string, key: string) => {
    for (const raw of sortedNames(dir)) {
      const name = raw.toString("utf8");
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const relKey = key ? `${key}/${raw.toString("latin1")}` : raw.toString("latin1");
      const st = lstatSync(path);
      out.files++;
      if (st.isFile()) out.bytes += st.size;
      if (entry(path, relPath, relKey, st) === "d") visit(path, relPath, relKey);
    }
  };
  entry(root, ".", "", lstatSync(root));
  visit(root, "", "");
  if (digest) out.sha256 = digest.digest("hex");
  if (meta) out.metaSha256 = meta.digest("hex");
  return out;
}
