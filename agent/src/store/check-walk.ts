// What both stores check of a walked tree against its signed manifest before the version is
// visible: its entry and byte counts, and (manifest version 2) its metadata digest.
import type { ReleaseManifest } from "../../protocol";
import { AgentError } from "../errors";
import type { TreeWalk } from "../tree-digest";

/** `tree` says how the tree came ("received", "unpacked"); `covers`, what its metadata digest covers. */
export function checkWalk(walk: TreeWalk, manifest: ReleaseManifest, tree: string, covers: string): void {
  if (walk.files !== manifest.tree.files || walk.bytes !== manifest.tree.bytes) {
    throw new AgentError(
      "CHECK_FAILED",
      "check",
      `the ${tree} tree has ${walk.files} entries and ${walk.bytes} bytes, the manifest says ${manifest.tree.files} and ${manifest.tree.bytes}`,
    );
  }
  if (manifest.manifestVersion === 2 && walk.metaSha256 !== manifest.tree.metaSha256) {
    throw new AgentError(
      "TREE_MISMATCH",
      "check",
      `the ${tree} tree of ${manifest.app} ${manifest.version} differs from its signed digest (${covers})`,
    );
  }
}
