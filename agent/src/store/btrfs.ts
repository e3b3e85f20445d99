// The btrfs backend: `btrfs receive --chroot -E 1 -e` into a fresh `.staging/<op>/recv/`, fed
// through a pipe with the stream's chunks, each only once it is verified (store/stage.ts); then
// the result must be exactly one read-only subvolume with the manifest's Received UUID, entry
// count and bytes (and, for an incremental stream, a snapshot of the host's parent). A read-only subvolume cannot be renamed into another directory (EROFS), so
// commit takes a read-only snapshot at apps/<app>/<version> (it keeps the Received UUID and
// shares all extents) and the staging copy is deleted with the rest of .staging/<op>.
import { lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { ReleaseManifest } from "../../protocol";
import { AgentError } from "../errors";
import { faultPoint } from "../fault";
import { walkTree } from "../tree-digest";
import { checkWalk } from "./check-walk";
import type { Backend, FormatInspector, Unpacked, Unpacker } from "./backend";
import { run, runChecked, type RunResult } from "./fs-util";
import { shown } from "./send-paths";
import { SendStreamInspector, StreamProblem, type SendStreamFacts } from "./send-stream";
import { readSubvolume } from "./subvolume-read";
import { isHostLabel } from "./xattr-names";

export interface SubvolumeInfo {
  uuid: string | null;
  parentUuid: string | null;
  receivedUuid: string | null;
  readOnly: boolean;
}

/** What `btrfs subvolume show` says about one subvolume, with where it is and which subvolumes are snapshots of it. */
export interface SubvolumeShow extends SubvolumeInfo {
  /** Its path from the file system's top level (the first line; "/" for the top level itself). */
  path: string;
  /** The paths (from the top level) of the subvolumes made as snapshots of it ("Snapshot(s):"). */
  snapshots: string[];
}

export function parseSubvolumeShow(stdout: string): SubvolumeShow {
  const field = (name: string): string | null => {
    const m = new RegExp(`^\\s*${name}:\\s*(\\S+)`, "m").exec(stdout);
    return m && m[1] && m[1] !== "-" ? m[1] : null;
  };
  const flags = /^\s*Flags:\s*(.*)$/m.exec(stdout)?.[1] ?? "";
  const lines = stdout.split("\n");
  const at = lines.findIndex((l) => /^\tSnapshot\(s\):\s*$/.test(l));
  const snapshots: string[] = [];
  // One per line, indented by four tabs; whatever follows (e.g. "Quota group:") is indented by one.
  for (let i = at + 1; at >= 0 && i < lines.length && lines[i]!.startsWith("\t\t\t\t"); i++)
    snapshots.push(lines[i]!.slice(4));
  return {
    path: lines[0] ?? "",
    uuid: field("UUID"),
    parentUuid: field("Parent UUID"),
    receivedUuid: field("Received UUID"),
    readOnly: /readonly/.test(flags),
    snapshots,
  };
}

export async function subvolumeShow(path: string): Promise<SubvolumeShow> {
  return parseSubvolumeShow((await runChecked(["btrfs", "subvolume", "show", "--", path])).stdout);
}

export async function subvolumeInfo(path: string): Promise<SubvolumeInfo> {
  const { uuid, parentUuid, receivedUuid, readOnly } = await subvolumeShow(path);
  return { uuid, parentUuid, receivedUuid, readOnly };
}

/**
 * Whether the parent's `show` lists the subvolume at treePath among its snapshots, by the exact
 * path from the file system's top level: the parent's own listed path ends with its path below the
 * directory it shares with treePath, and the rest of that listed path is where that directory is.
 * null when that cannot be told (the paths do not line up, e.g. through another mount, or a name
 * holds a control character): then the caller asks the kernel about treePath itself.
 */
export function listedAsSnapshot(
  parent: SubvolumeShow,
  parentPath: string,
  treePath: string,
): boolean | null {
  const a = parentPath.split("/").filter(Boolean);
  const b = treePath.split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const relParent = a.slice(common).join("/");
  const relTree = b.slice(common).join("/");
  const control = [...(relParent + relTree)].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (!relParent || !relTree || control) return null;
  let prefix: string;
  if (parent.path === relParent) prefix = "";
  else if (parent.path.endsWith(`/${relParent}`)) prefix = parent.path.slice(0, -relParent.length);
  else return null;
  return parent.snapshots.includes(prefix + relTree);
}

class SendInspector implements FormatInspector {
  private inner: SendStreamInspector;
  constructor(manifest: ReleaseManifest, parentUuid: string | null, parentDir: string | null) {
    this.inner = new SendStreamInspector({ uuid: manifest.stream.uuid, parentUuid, parentDir });
  }
  push(chunk: Buffer): void {
    this.inner.push(chunk);
  }
  finish() {
    const f = this.inner.finish();
    return {
      setuid: f.setuid,
      capabilities: f.capabilities,
      devices: f.devices,
      xattrs: f.xattrs,
      clones: f.clones,
      xattrNames: f.xattrNames,
    };
  }
  get subvolName(): string {
    return this.inner.finish().subvolName;
  }
}

/**
 * The received tree as the kernel holds it, before it becomes visible (RELIABILITY case 27): every
 * inode including the root walked with lstat, every extended attribute read (subvolume-read.ts, the
 * same allow-list as the stream), the entry count and bytes, and the signed digest without file
 * contents (manifestVersion 2). File contents come from the stream's verified bytes, except where
 * the stream cloned data: then the full digest, contents included, is checked too. A version 1
 * manifest's digest cannot cover extended attributes, so such a release is taken only when the
 * tree has none (decision 0012).
 */
async function checkTree(
  treePath: string,
  manifest: ReleaseManifest,
  clones: number,
  streamNames: ReadonlySet<string>,
  real: SendStreamFacts,
) {
  const xattrs: Map<string, [string, Buffer][]> = real.allXattrs ?? new Map();
  // The host's own security labels (SELinux, …) are on every new file; only the stream's count.
  const hostMade = (n: string) => isHostLabel(n) && !streamNames.has(n);
  const own = [...xattrs.entries()].filter(([, xs]) => xs.some(([n]) => !hostMade(n)));
  const v = manifest.manifestVersion;
  if (v === 1 && own.length > 0) {
    const first = own[0]!;
    throw new AgentError(
      "MANIFEST_TOO_OLD",
      "check",
      `${manifest.app} ${manifest.version} has a version 1 manifest, whose tree digest does not cover extended attributes, and its tree holds some (${own.length} entries, e.g. ${shown(first[0])}: ${first[1].map(([n]) => n).join(", ")}); rebuild it with a current keel-agent`,
    );
  }
  const walk = walkTree(treePath, { withDigest: clones > 0, meta: v === 2, manifestVersion: v, xattrs });
  checkWalk(
    walk,
    manifest,
    "received",
    "paths, types, modes, owners, sizes, link targets or extended attributes",
  );
  if (walk.sha256 !== undefined && walk.sha256 !== manifest.tree.sha256) {
    throw new AgentError(
      "TREE_MISMATCH",
      "check",
      `the received tree of ${manifest.app} ${manifest.version} differs from its signed digest after ${clones} clone${clones === 1 ? "" : "s"} of data the stream did not carry`,
    );
  }
  const u = (a: string[], b: string[]) => [...new Set([...a, ...b])].slice(0, 100);
  const names = new Set([...real.xattrNames].filter((n) => !hostMade(n)));
  const listed = real.xattrs.filter((x) => !/ \((.*)\)$/.test(x) || !hostMade(/ \((.*)\)$/.exec(x)![1]!));
  return {
    setuid: u(real.setuid, walk.setuid),
    capabilities: real.capabilities,
    devices: u(real.devices, walk.devices),
    xattrs: listed,
    xattrNames: names,
  };
}

function receiveError(r: RunResult): AgentError {
  const why = r.stderr
    .trim()
    .split("\n")
    .filter((l) => !/^(Chroot to|At (subvol|snapshot))/.test(l))
    .slice(-3)
    .join("; ");
  if (/No space left on device|ENOSPC/i.test(r.stderr)) {
    return new AgentError("DISK_FULL", "receive", `no space left in the store while receiving: ${why}`);
  }
  return new AgentError(
    "RECEIVE_FAILED",
    "receive",
    `btrfs receive failed (${r.signal ?? `exit ${r.code}`}): ${why || "no message"}`,
  );
}

/**
 * `btrfs receive` reading the verified chunks from a pipe (its stdin). Each write resolves once
 * the kernel took the bytes, so the agent holds no more than the chunk being written. If receive
 * exits early (a stream it refuses, a full disk), the failed write reports receive's own error.
 */
class BtrfsReceive implements Unpacker {
  private stdin: Writable | null = null;
  private pid = 0;
  private killed = false;
  private readonly exited: Promise<RunResult>;

  constructor(private readonly recv: string) {
    this.exited = run(["btrfs", "receive", "--chroot", "-E", "1", "-e", recv], {
      stdin: "pipe",
      onSpawn: (pid, stdin) => {
        this.pid = pid;
        this.stdin = stdin;
        stdin?.on("error", () => undefined); // EPIPE when receive exits early: reported by write()
      },
    });
    this.exited.catch(() => undefined);
  }

  async write(buf: Buffer): Promise<void> {
    const stdin = this.stdin;
    if (!stdin) throw await this.failure();
    try {
      await new Promise<void>((resolve, reject) => stdin.write(buf, (e) => (e ? reject(e) : resolve())));
    } catch {
      throw await this.failure();
    }
  }

  /** Why receive stopped taking input: its own exit status and message. */
  private async failure(): Promise<AgentError> {
    const r = await this.exited;
    return r.code === 0
      ? new AgentError("RECEIVE_FAILED", "receive", "btrfs receive exited before the end of the stream")
      : receiveError(r);
  }

  async finish(): Promise<Unpacked> {
    await new Promise<void>((resolve) => this.stdin!.end(resolve));
    const r = await this.exited;
    if (r.code !== 0) throw receiveError(r);
    faultPoint("receive.received");
    const entries = readdirSync(this.recv);
    if (entries.length !== 1 || !entries[0]) {
      throw new AgentError(
        "CHECK_FAILED",
        "check",
        `btrfs receive left ${entries.length} entries in its directory instead of one subvolume: ${entries.slice(0, 5).join(", ")}`,
      );
    }
    return { treePath: join(this.recv, entries[0]), receivedUuid: null };
  }

  async abort(): Promise<void> {
    if (!this.killed && this.pid) {
      this.killed = true;
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    await this.exited.catch(() => undefined);
  }
}

export const btrfsBackend: Backend = {
  name: "btrfs",
  format: "btrfs-send",

  inspector: (manifest, parentUuid, parentPath) => new SendInspector(manifest, parentUuid, parentPath),

  async unpacker({ opDir }): Promise<Unpacker> {
    const recv = join(opDir, "recv");
    mkdirSync(recv, { mode: 0o700 });
    return new BtrfsReceive(recv);
  },

  async check({ unpacked, manifest, parentPath, streamClones, streamXattrNames }) {
    const st = lstatSync(unpacked.treePath);
    if (!st.isDirectory() || st.ino !== 256) {
      throw new AgentError("CHECK_FAILED", "check", "the received entry is not a btrfs subvolume");
    }
    // The kernel's description of the whole tree (subvolume-read.ts). `btrfs send` reads only
    // read-only subvolumes, so it fails on one that receive did not finish; its first command
    // carries the subvolume's Received UUID (its own UUID when it has none).
    const real = await readSubvolume(unpacked.treePath, "check");
    if (real.subvolUuid !== manifest.stream.uuid) {
      throw new AgentError(
        "CHECK_FAILED",
        "check",
        `the received subvolume's Received UUID ${real.subvolUuid} is not the manifest's ${manifest.stream.uuid}`,
      );
    }
    if (parentPath) {
      // Made from the installed parent: the parent's snapshots include this subvolume (one
      // `btrfs subvolume show`). When it is not listed there or the paths cannot be compared (another
      // btrfs-progs' layout, another mount), the tree's own Parent UUID decides, as before: a listing
      // only ever spares that second program, it never refuses on its own.
      const parent = await subvolumeShow(parentPath);
      let made = !!parent.uuid && listedAsSnapshot(parent, parentPath, unpacked.treePath) === true;
      if (!made && parent.uuid) {
        const info = await subvolumeInfo(unpacked.treePath);
        made = info.readOnly && info.parentUuid === parent.uuid;
      }
      if (!made) {
        throw new AgentError(
          "PARENT_MISMATCH",
          "check",
          `the received subvolume was not made from the installed parent ${manifest.parent?.version}`,
        );
      }
    }
    unpacked.receivedUuid = real.subvolUuid;
    return checkTree(unpacked.treePath, manifest, streamClones ?? 0, streamXattrNames ?? new Set(), real);
  },

  async commit(treePath, finalPath): Promise<void> {
    await runChecked(["btrfs", "subvolume", "snapshot", "-r", "--", treePath, finalPath]);
  },

  async receivedUuidOf(path) {
    return (await subvolumeInfo(path)).receivedUuid;
  },
};

export { StreamProblem };
