// Unpacking a verified keel-tree-1 stream (tree-stream.ts) into a new directory. The parser has
// already refused anything the format cannot mean; what is left to guard here is the parent
// version (P records): it is an installed tree on the host, not kernel-read-only on this backend,
// so it is read without ever following a symlink, and what is hard-linked must be the very inode
// that was checked.
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  chmodSync,
  chownSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  symlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { StreamProblem } from "./send-stream";
import { TreeStreamParser, type TreeRecord } from "./tree-stream";

function mismatch(message: string): never {
  throw new StreamProblem("PARENT_MISMATCH", message);
}

/**
 * Opens the parent version's file at rel for reading, refusing any path that is or goes through a
 * symlink (every directory on the way is lstat'ed; the file is opened O_NOFOLLOW).
 */
function openParentFile(parentRoot: string, rel: string, checked: Set<string>): { fd: number; st: Stats } {
  const parts = rel.split("/");
  let dir = "";
  for (const part of parts.slice(0, -1)) {
    dir = dir ? `${dir}/${part}` : part;
    if (checked.has(dir)) continue;
    const st = lstatSync(join(parentRoot, dir), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      mismatch(
        `the stream links ${rel} from the parent version, but the parent's ${dir} is a symlink (→ ${readlinkSync(join(parentRoot, dir))}), which is never followed`,
      );
    }
    if (!st?.isDirectory())
      mismatch(`the stream links ${rel} from the parent version, which has no directory ${dir}`);
    checked.add(dir);
  }
  let fd: number;
  try {
    fd = openSync(join(parentRoot, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP")
      mismatch(
        `the stream links ${rel} from the parent version, where it is a symlink, which is never followed`,
      );
    if (code === "ENOENT")
      mismatch(`the stream links ${rel} from the parent version, which has no such file`);
    throw e;
  }
  return { fd, st: fstatSync(fd) };
}

function fdSha256(fd: number, buf: Buffer): string {
  const h = createHash("sha256");
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest("hex");
}

/** Hard-links the parent's file for a P record after checking it is exactly the file the stream was built against. */
function linkFromParent(
  r: Extract<TreeRecord, { t: "P" }>,
  parentRoot: string,
  path: string,
  checked: Set<string>,
  buf: Buffer,
): void {
  const { fd, st } = openParentFile(parentRoot, r.p, checked);
  try {
    if (
      !st.isFile() ||
      st.size !== r.s ||
      (st.mode & 0o7777) !== r.m ||
      st.uid !== r.u ||
      st.gid !== r.g ||
      fdSha256(fd, buf) !== r.sha
    ) {
      mismatch(`the parent's ${r.p} is not the file this update was built against`);
    }
    linkSync(join(parentRoot, r.p), path);
    // The link was made by path: it must be the inode that was checked (nothing swapped meanwhile).
    const linked = lstatSync(path);
    if (linked.ino !== st.ino || linked.dev !== st.dev)
      mismatch(`the parent's ${r.p} changed while it was linked`);
  } finally {
    closeSync(fd);
  }
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
    fchmodSync(out, current.m);
    futimesSync(out, current.mt / 1000, current.mt / 1000);
    closeSync(out);
    out = -1;
    current = null;
  };
  const parser = new TreeStreamParser(
    { hasParent: parentRoot !== null, streamBytes: fstatSync(fd).size },
    (r) => {
      if (r.t === "e") return;
      const path = r.p === "." ? dest : join(dest, r.p);
      switch (r.t) {
        case "d":
          mkdirSync(path, { mode: 0o700 });
          chownSync(path, r.u, r.g);
          chmodSync(path, r.m);
          dirTimes.push([path, r.mt]);
          return;
        case "f":
          out = openSync(
            path,
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o600,
          );
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
          linkSync(join(dest, r.to), path); // `to` is a regular file the stream made (link() does not follow)
          return;
        case "P":
          if (!parentRoot) mismatch("the stream links files from a parent version, but there is none");
          linkFromParent(r, parentRoot, path, checkedParentDirs, hashBuf);
          return;
        case "c":
        case "b":
          throw new StreamProblem(
            "BAD_STREAM",
            `the plain-directory backend cannot create device node ${r.p}; install this release on a btrfs store`,
          );
      }
    },
    (d) => {
      let off = 0;
      while (off < d.length) off += writeSync(out, d, off, d.length - off);
      written += d.length;
      if (current && written === current.s) finishFile();
    },
  );
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      parser.push(buf.subarray(0, n));
      pos += n;
    }
    parser.finish();
  } finally {
    if (out >= 0) closeSync(out);
  }
  for (const [path, mt] of dirTimes.reverse()) utimesSync(path, mt / 1000, mt / 1000);
}
