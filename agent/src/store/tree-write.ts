// Writing a keel-tree-1 stream (tree-stream.ts) from a directory, for `build`. It writes only what
// a receiving agent accepts: a name that is not well-formed UTF-8 or carries a control character
// is refused here, at build time, with the path, instead of producing a stream every host refuses.
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { AgentError } from "../errors";
import { fileSha256 } from "../tree-digest";
import { MAGIC, PREAMBLE, nameProblem, type TreeRecord } from "./tree-stream";

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
    const base = { p: rel, u: st.uid, g: st.gid, mt: Math.max(0, Math.floor(st.mtimeMs)) }; // the format has no times before 1970
    if (rel !== ".") stats.files++;
    if (st.isDirectory()) {
      record({ t: "d", ...base, m: st.mode & 0o7777 });
      const names = readdirSync(abs, { encoding: "buffer" })
        .sort(Buffer.compare)
        .map((b) => {
          const n = b.toString("utf8");
          const why = Buffer.from(n).equals(b) ? nameProblem(n) : "is not valid UTF-8";
          if (why)
            throw new AgentError(
              "NOT_SUPPORTED",
              "build",
              `${rel === "." ? "" : `${rel}/`}${JSON.stringify(n)}: a name that ${why} cannot go into a keel-tree-1 stream`,
            );
          return n;
        });
      for (const n of names) visit(join(abs, n), rel === "." ? n : `${rel}/${n}`);
      return;
    }
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs);
      const why = nameProblem(target);
      if (why)
        throw new AgentError(
          "NOT_SUPPORTED",
          "build",
          `${rel}: a symlink target that ${why} cannot go into a keel-tree-1 stream`,
        );
      record({ t: "l", ...base, target });
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      record({
        t: st.isCharacterDevice() ? "c" : "b",
        p: rel,
        m: st.mode & 0o7777,
        u: st.uid,
        g: st.gid,
        rdev: st.rdev,
      });
      return;
    }
    if (!st.isFile())
      throw new AgentError(
        "NOT_SUPPORTED",
        "build",
        `${rel}: fifos and sockets are not supported in keel-tree-1`,
      );
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
      if (
        pst &&
        pst.isFile() &&
        pst.size === st.size &&
        (pst.mode & 0o7777) === (st.mode & 0o7777) &&
        pst.uid === st.uid &&
        pst.gid === st.gid
      ) {
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
