// The plain-directory backend for hosts whose store is not on btrfs: a keel-tree-1 archive is
// unpacked into .staging/<op>/tree (unchanged files hard-linked from the parent version), checked,
// and renamed into apps/<app>/<version>. The same journal, lock and symlink switch as btrfs.
// Its unpacker reads a file, not a pipe: the verified chunks are written, as they are released,
// into an unnamed file in .staging/<op> (O_TMPFILE: nothing can open it by path; on a file system
// without O_TMPFILE `.staging/<op>/stream`, 0600 in a 0700 directory) and unpacked from that
// descriptor once the whole stream is verified. Nothing unverified is ever written there.
// Trees are not kernel-enforced read-only here (no subvolume flag); `verify` detects changes.
import { closeSync, constants, lstatSync, openSync, renameSync, write } from "node:fs";
import { dirname, join } from "node:path";
import { AgentError, isDiskFull } from "../errors";
import { faultPoint } from "../fault";
import { walkTree } from "../tree-digest";
import { checkWalk } from "./check-walk";
import type { Backend, FormatInspector, Unpacked, Unpacker } from "./backend";
import { fsyncDir } from "./fs-util";
import { StreamProblem } from "./send-stream";
import { TreeStreamParser } from "./tree-stream";
import { unpackTreeStream } from "./tree-unpack";

function pwrite(fd: number, buf: Buffer, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const loop = (off: number) => {
      write(fd, buf, off, buf.length - off, pos + off, (e, n) => {
        if (e) return reject(e);
        if (off + n < buf.length) loop(off + n);
        else resolve();
      });
    };
    loop(0);
  });
}

/** Linux's O_TMPFILE (__O_TMPFILE | O_DIRECTORY); Node does not export it. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/** An unnamed file in opDir (O_TMPFILE) where the file system supports it, else opDir/stream (0600, exclusive). */
export function openStagingFile(opDir: string): number {
  try {
    return openSync(opDir, O_TMPFILE | constants.O_RDWR, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EOPNOTSUPP" && code !== "EISDIR" && code !== "EINVAL") throw e;
  }
  return openSync(join(opDir, "stream"), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
}

/** Writes the verified chunks into the staging file (positioned writes: its offset stays 0), then unpacks it. */
class StagedTree implements Unpacker {
  private pos = 0;
  private fd: number;

  constructor(
    opDir: string,
    private readonly treePath: string,
    private readonly parentPath: string | null,
  ) {
    this.fd = openStagingFile(opDir);
  }

  async write(buf: Buffer): Promise<void> {
    try {
      await pwrite(this.fd, buf, this.pos);
    } catch (e) {
      if (isDiskFull(e))
        throw new AgentError(
          "DISK_FULL",
          "receive",
          `no space left in the store while staging the stream: ${(e as Error).message}`,
        );
      throw e;
    }
    this.pos += buf.length;
  }

  async finish(): Promise<Unpacked> {
    try {
      unpackTreeStream(this.fd, this.treePath, this.parentPath);
    } catch (e) {
      if (e instanceof StreamProblem) throw new AgentError(e.kind, "receive", e.message);
      throw e;
    } finally {
      await this.abort();
    }
    faultPoint("receive.received");
    return { treePath: this.treePath, receivedUuid: null };
  }

  async abort(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export const plainBackend: Backend = {
  name: "plain",
  format: "keel-tree-1",

  inspector(manifest): FormatInspector {
    return new TreeStreamParser({
      hasParent: manifest.parent !== undefined,
      streamBytes: manifest.stream.bytes,
      tree: manifest.tree,
    });
  },

  async unpacker({ opDir, parentPath }) {
    return new StagedTree(opDir, join(opDir, "tree"), parentPath);
  },

  async check({ unpacked, manifest }) {
    // keel-tree-1 carries no extended attributes: the metadata digest (manifest version 2) covers
    // paths, types, modes, owners, sizes and link targets, checked before the version is visible.
    const v = manifest.manifestVersion;
    const walk = walkTree(unpacked.treePath, { withDigest: false, meta: v === 2, manifestVersion: v });
    checkWalk(walk, manifest, "unpacked", "paths, types, modes, owners, sizes or link targets");
    // The walk reports what lies below the root; the root's own mode counts too (a setgid version root).
    const setuid = lstatSync(unpacked.treePath).mode & 0o6000 ? [".", ...walk.setuid] : walk.setuid;
    return { setuid, capabilities: [], devices: walk.devices };
  },

  async commit(treePath, finalPath) {
    renameSync(treePath, finalPath);
    fsyncDir(dirname(finalPath));
  },

  async receivedUuidOf() {
    return null;
  },
};
