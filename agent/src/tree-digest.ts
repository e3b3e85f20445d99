// Walking a release tree: the entry count and byte total every receive checks, the special
// content it reports (setuid/setgid, device nodes), and Keel's tree digest that build records in
// the manifest and `verify` recomputes. Symlinks are never followed.
//
// Tree digest: SHA-256 over one JSON line per entry, entries in byte order of their paths
// (depth-first, children sorted by their name's bytes):
//   [path, type, mode & 07777, uid, gid, detail]   (the root itself first, as ".")
//     detail = file: "<size>:<content sha256>",
//   symlink: target, device: "<rdev>", directory/fifo/socket: ""
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";

export interface TreeWalk {
  files: number;
  bytes: number;
  setuid: string[];
  devices: string[];
  /** Present when the walk computed contents (withDigest). */
  sha256?: string;
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

function sortedNames(dir: string): string[] {
  return readdirSync(dir, { encoding: "buffer" })
    .sort(Buffer.compare)
    .map((b) => b.toString("utf8"));
}

/** Walks root; with withDigest it also reads every file and returns the tree digest. */
export function walkTree(root: string, opts: { withDigest: boolean }): TreeWalk {
  const out: TreeWalk = { files: 0, bytes: 0, setuid: [], devices: [] };
  const digest = opts.withDigest ? createHash("sha256") : null;
  const buf = opts.withDigest ? Buffer.allocUnsafe(1024 * 1024) : Buffer.alloc(0);
  const visit = (dir: string, rel: string) => {
    for (const name of sortedNames(dir)) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path);
      const type = typeOf(st);
      out.files++;
      if (type === "f") out.bytes += st.size;
      if ((type === "f" || type === "d") && st.mode & 0o6000 && out.setuid.length < 100) out.setuid.push(relPath);
      if ((type === "c" || type === "b") && out.devices.length < 100) out.devices.push(relPath);
      if (digest) {
        let detail = "";
        if (type === "f") detail = `${st.size}:${fileSha256(path, buf)}`;
        else if (type === "l") detail = readlinkSync(path);
        else if (type === "c" || type === "b") detail = String(st.rdev);
        digest.update(JSON.stringify([relPath, type, st.mode & 0o7777, st.uid, st.gid, detail]) + "\n");
      }
      if (type === "d") visit(path, relPath);
    }
  };
  if (digest) {
    const st = lstatSync(root);
    digest.update(JSON.stringify([".", "d", st.mode & 0o7777, st.uid, st.gid, ""]) + "\n");
  }
  visit(root, "");
  if (digest) out.sha256 = digest.digest("hex");
  return out;
}
