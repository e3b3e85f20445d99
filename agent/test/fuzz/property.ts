// The fuzzer's property, checked from outside the agent after every case: the stream was refused,
// or installed exactly as the manifest describes (tree digest; no setuid/setgid anywhere including
// the version's root, no device nodes, no xattrs — the trees it mutates declare none, no byte of
// the secret beside the store), and nothing outside `.staging` changed (the sentinel tree beside
// the store keeps every byte, mode, owner and mtime; the installed parent keeps its digest).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { ReleaseManifest } from "../../protocol";
import { walkTree } from "../../src/tree-digest";

export type ViolationKind =
  | "tree" // installed, but paths, types, modes, owners, sizes or link targets differ from the signed tree
  | "content" // installed with the signed tree's metadata, but a file's contents differ (the full digest)
  | "setuid" // a setuid/setgid entry below the root that the manifest does not declare
  | "setuid-root" // the version's root directory is setuid/setgid
  | "device" // a device node the manifest does not declare
  | "xattr" // any xattr (capabilities, ACLs, labels, user.*) on an installed inode
  | "leak" // an installed file holds the root-only secret beside the store
  | "outside" // something outside .staging changed: the sentinel, the parent, the store's layout
  | "leftover" // .staging or .journal not empty after the receive
  | "internal"; // the agent failed with INTERNAL (an error nobody wrote for this input)

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

/** Every entry below root (root included), never following symlinks: path, type, mode, owner, size, mtime (ns), content digest or target. */
export function snapshotTree(root: string): string {
  const lines: string[] = [];
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs, { bigint: true });
    let detail = "";
    if (st.isFile()) detail = createHash("sha256").update(readFileSync(abs)).digest("hex");
    else if (st.isSymbolicLink()) detail = readlinkSync(abs);
    lines.push(
      JSON.stringify([
        rel,
        st.mode.toString(8),
        String(st.uid),
        String(st.gid),
        String(st.size),
        String(st.mtimeNs),
        String(st.ino),
        detail,
      ]),
    );
    if (st.isDirectory())
      for (const n of readdirSync(abs).sort()) visit(join(abs, n), rel === "." ? n : `${rel}/${n}`);
  };
  visit(root, ".");
  return lines.join("\n");
}

const LIST_XATTRS = `
import os, sys, json
root = sys.argv[1]
out = {}
def names(p):
    try:
        return os.listxattr(p, follow_symlinks=False)
    except OSError:
        return []
if names(root): out["."] = names(root)
for d, dirs, files in os.walk(root):
    for x in dirs + files:
        p = os.path.join(d, x)
        if names(p): out[os.path.relpath(p, root)] = names(p)
print(json.dumps(out))
`;

/** Every xattr name on every inode below root (root included), symlinks not followed. Python: Node has no xattr API. */
export function listXattrs(root: string): Record<string, string[]> {
  return JSON.parse(execFileSync("python3", ["-c", LIST_XATTRS, root]).toString()) as Record<
    string,
    string[]
  >;
}

/** One line per entry (root first, names in byte order): what a tree's metadata digest covers, without contents. */
export function metaLines(root: string): string[] {
  const lines: string[] = [];
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    const type = st.isDirectory()
      ? "d"
      : st.isFile()
        ? "f"
        : st.isSymbolicLink()
          ? "l"
          : st.isCharacterDevice()
            ? "c"
            : st.isBlockDevice()
              ? "b"
              : "o";
    const detail =
      type === "f" ? st.size : type === "l" ? readlinkSync(abs) : type === "c" || type === "b" ? st.rdev : "";
    lines.push(JSON.stringify([rel, type, (st.mode & 0o7777).toString(8), st.uid, st.gid, detail]));
    if (st.isDirectory())
      for (const n of readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare))
        visit(join(abs, n.toString()), rel === "." ? n.toString() : `${rel}/${n.toString()}`);
  };
  visit(root, ".");
  return lines;
}

/**
 * Checks an installed version against the manifest it was received with and the tree that
 * manifest was built from (`signedTree`: the build store's copy): metadata first, then contents.
 */
export function checkInstalled(
  dir: string,
  m: ReleaseManifest,
  secretMarker: Buffer,
  signedTree?: string,
): Violation[] {
  const v: Violation[] = [];
  const sha = walkTree(dir, { withDigest: true }).sha256;
  const got = metaLines(dir);
  const want = signedTree ? metaLines(signedTree) : null;
  const differs = want ? got.findIndex((l, i) => l !== want[i]) : -1;
  if (want && (differs >= 0 || got.length !== want.length)) {
    v.push({
      kind: "tree",
      detail: `installed ${got[differs] ?? `${got.length} entries`}, signed ${want[differs] ?? `${want.length} entries`}`,
    });
  } else if (sha !== m.tree.sha256) {
    v.push({ kind: "content", detail: `tree digest ${sha} ≠ manifest ${m.tree.sha256}` });
  }
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if (st.mode & 0o6000 && !st.isSymbolicLink() && m.special?.setuid !== true) {
      v.push({
        kind: rel === "." ? "setuid-root" : "setuid",
        detail: `${rel} has mode 0o${st.mode.toString(8)}`,
      });
    }
    if ((st.isCharacterDevice() || st.isBlockDevice()) && m.special?.devices !== true)
      v.push({ kind: "device", detail: `${rel} is a device node` });
    if (st.isFile() && st.size < 1024 * 1024 && readFileSync(abs).includes(secretMarker))
      v.push({ kind: "leak", detail: `${rel} holds the secret from beside the store` });
    if (st.isDirectory())
      for (const n of readdirSync(abs)) visit(join(abs, n), rel === "." ? n : `${rel}/${n}`);
  };
  visit(dir, ".");
  for (const [p, names] of Object.entries(listXattrs(dir)))
    v.push({ kind: "xattr", detail: `${p} has xattrs ${JSON.stringify(names)}` });
  return v;
}
