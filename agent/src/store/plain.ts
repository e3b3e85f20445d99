// The plain-directory backend for hosts whose store is not on btrfs: a keel-tree-1 archive is
// unpacked into .staging/<op>/tree (unchanged files hard-linked from the parent version), checked,
// and renamed into apps/<app>/<version>. The same journal, lock and symlink switch as btrfs.
// Trees are not kernel-enforced read-only here (no subvolume flag); `verify` detects changes.
import { renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { AgentError } from "../errors";
import { faultPoint } from "../fault";
import { walkTree } from "../tree-digest";
import type { Backend, FormatInspector } from "./backend";
import { fsyncDir } from "./fs-util";
import { StreamProblem } from "./send-stream";
import { TreeStreamParser, unpackTreeStream } from "./tree-stream";

export const plainBackend: Backend = {
  name: "plain",
  format: "keel-tree-1",

  inspector(manifest): FormatInspector {
    return new TreeStreamParser(manifest.parent !== undefined);
  },

  async unpack({ fd, opDir, parentPath }) {
    const treePath = join(opDir, "tree");
    try {
      unpackTreeStream(fd, treePath, parentPath);
    } catch (e) {
      if (e instanceof StreamProblem) throw new AgentError(e.kind, "receive", e.message);
      throw e;
    }
    faultPoint("receive.received");
    return { treePath, receivedUuid: null };
  },

  async check({ unpacked, manifest }) {
    const walk = walkTree(unpacked.treePath, { withDigest: false });
    if (walk.files !== manifest.tree.files || walk.bytes !== manifest.tree.bytes) {
      throw new AgentError(
        "CHECK_FAILED",
        "check",
        `the unpacked tree has ${walk.files} entries and ${walk.bytes} bytes, the manifest says ${manifest.tree.files} and ${manifest.tree.bytes}`,
      );
    }
    return { setuid: walk.setuid, capabilities: [], devices: walk.devices };
  },

  async commit(treePath, finalPath) {
    renameSync(treePath, finalPath);
    fsyncDir(dirname(finalPath));
  },

  async receivedUuidOf() {
    return null;
  },
};
