// One command of a `btrfs send` stream (v1), checked (send-stream.ts does the framing): attributes
// parsed exactly (no unknown or repeated types, every u64 exactly 8 bytes and read as BigInt),
// paths inside the tree and never through a symlink (send-paths.ts), modes without bits outside
// the file type and 0o7777, xattr names on the allow-list (xattr-names.ts), clones only from the
// subvolume itself or its parent; special content is collected for the declaration check.
import { PathTracker, checkInside, shown } from "./send-paths";
import { classifyXattr, describeCapability } from "./xattr-names";

/** Command types of send stream v1 (BTRFS_SEND_C_*); the agent's tests craft streams with them too. */
export const C = {
  SUBVOL: 1,
  SNAPSHOT: 2,
  MKFILE: 3,
  MKDIR: 4,
  MKNOD: 5,
  MKFIFO: 6,
  MKSOCK: 7,
  SYMLINK: 8,
  RENAME: 9,
  LINK: 10,
  UNLINK: 11,
  RMDIR: 12,
  SET_XATTR: 13,
  REMOVE_XATTR: 14,
  WRITE: 15,
  CLONE: 16,
  TRUNCATE: 17,
  CHMOD: 18,
  CHOWN: 19,
  UTIMES: 20,
  END: 21,
  UPDATE_EXTENT: 22,
} as const;
/** Attribute types of send stream v1 (BTRFS_SEND_A_*). */
export const A = {
  UUID: 1,
  CTRANSID: 2,
  INO: 3,
  SIZE: 4,
  MODE: 5,
  UID: 6,
  GID: 7,
  RDEV: 8,
  CTIME: 9,
  MTIME: 10,
  ATIME: 11,
  OTIME: 12,
  XATTR_NAME: 13,
  XATTR_DATA: 14,
  PATH: 15,
  PATH_TO: 16,
  PATH_LINK: 17,
  FILE_OFFSET: 18,
  DATA: 19,
  CLONE_UUID: 20,
  CLONE_CTRANSID: 21,
  CLONE_PATH: 22,
  CLONE_OFFSET: 23,
  CLONE_LEN: 24,
} as const;
/** Attributes holding a u64 (exactly 8 bytes; read as BigInt, never as a JavaScript number). */
const U64_ATTRS = new Set<number>([
  A.CTRANSID,
  A.INO,
  A.SIZE,
  A.MODE,
  A.UID,
  A.GID,
  A.RDEV,
  A.FILE_OFFSET,
  A.CLONE_CTRANSID,
  A.CLONE_OFFSET,
  A.CLONE_LEN,
]);
/** The highest attribute type of send stream v1 (BTRFS_SEND_A_CLONE_LEN). */
const MAX_ATTR = 24;
const S_IFMT = 0o170000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;
const NODE_TYPES = new Set([0o010000n, 0o020000n, 0o060000n, 0o100000n, 0o140000n]); // fifo, chr, blk, reg, sock
const REPORT_LIMIT = 100;
/** Commands of the kernel's own `send --no-data` that say nothing about modes, xattrs or names. */
const LISTING_SKIPS = new Set<number>([
  C.MKFILE,
  C.MKDIR,
  C.MKFIFO,
  C.MKSOCK,
  C.SYMLINK,
  C.LINK,
  C.UNLINK,
  C.RMDIR,
  C.WRITE,
  C.TRUNCATE,
  C.CHOWN,
  C.UTIMES,
  C.UPDATE_EXTENT,
  C.END,
]);

export class StreamProblem extends Error {
  constructor(
    readonly kind: "BAD_STREAM" | "PARENT_MISMATCH" | "STREAM_ESCAPE" | "SPECIAL_FILES",
    message: string,
  ) {
    super(message);
  }
}

export interface SendStreamFacts {
  subvolName: string;
  subvolUuid: string;
  /** UUID of the parent (clone source) for an incremental stream. */
  parentUuid: string | null;
  commands: number;
  /** Clone commands: data that does not come from the stream's own bytes. */
  clones: number;
  /** Paths ("." for the subvolume's root), each list the first 100 (from finish()). */
  setuid: string[];
  /** "path (cap_setuid+ep)" */
  capabilities: string[];
  devices: string[];
  /** Privileged extended attributes other than capabilities: "path (name)". */
  xattrs: string[];
  /** The names of those privileged attributes (all of them, for the declaration check). */
  xattrNames: Set<string>;
  /** With `listing`: every extended attribute by path (exact bytes as latin1) → [name, value]. */
  allXattrs: Map<string, [string, Buffer][]> | null;
}

function uuidString(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function push(list: string[], v: string): void {
  if (list.length < REPORT_LIMIT) list.push(v);
}

export interface InspectorExpect {
  uuid: string | undefined;
  parentUuid: string | null;
  /** The installed parent's tree, where clone sources of an incremental stream are looked up. */
  parentDir?: string | null;
  /** Reading the kernel's `btrfs send --no-data` of a received subvolume: no UUIDs to match, keep every xattr. */
  listing?: boolean;
}

export class CommandChecker {
  ended = false;
  readonly paths: PathTracker;
  /** Entries reported in the special lists, by current path: renames move them. */
  readonly facts: SendStreamFacts;

  constructor(private readonly expect: InspectorExpect) {
    this.paths = new PathTracker(expect.parentDir ?? null);
    this.facts = {
      subvolName: "",
      subvolUuid: "",
      parentUuid: null,
      commands: 0,
      clones: 0,
      setuid: [],
      capabilities: [],
      devices: [],
      xattrs: [],
      xattrNames: new Set(),
      allXattrs: expect.listing ? new Map() : null,
    };
  }

  /** The facts as reported: internally "path" or "path\0note" (latin1), reported "path (note)", "." for the root. */
  report(): SendStreamFacts {
    const f = this.facts;
    const report = (list: string[]) =>
      list.map((v) => {
        const i = v.indexOf("\0");
        return i < 0 ? shown(v) : `${shown(v.slice(0, i))} (${v.slice(i + 1)})`;
      });
    return {
      ...f,
      setuid: report(f.setuid),
      capabilities: report(f.capabilities),
      devices: report(f.devices),
      xattrs: report(f.xattrs),
    };
  }

  /** Where each attribute of the current command lies in its payload: offset + 1 (0: absent), length. */
  private readonly attrAt = new Int32Array(32);
  private readonly attrLen = new Int32Array(32);
  /** The last path that passed the path checks (a copy): file data comes as runs of writes to one path. */
  private lastPath = Buffer.alloc(0);

  private attr(payload: Buffer, t: number): Buffer | undefined {
    const at = this.attrAt[t]!;
    return at ? payload.subarray(at - 1, at - 1 + this.attrLen[t]!) : undefined;
  }

  /** Rewrites reported paths when send renames an entry (it creates under temporary names first). */
  private renamed(from: string, to: string): void {
    const f = this.facts;
    for (const list of [f.setuid, f.devices, f.capabilities, f.xattrs]) {
      for (let i = 0; i < list.length; i++) {
        const v = list[i] as string;
        if (v === from || v.startsWith(`${from}\0`) || v.startsWith(`${from}/`))
          list[i] = to + v.slice(from.length);
      }
    }
    const all = f.allXattrs;
    if (all && all.size) {
      for (const [p, xs] of [...all]) {
        if (p === from || p.startsWith(`${from}/`)) {
          all.delete(p);
          all.set(to + p.slice(from.length), xs);
        }
      }
    }
    this.paths.renamed(from, to);
  }

  /** The command being parsed (its attributes are located by attrAt/attrLen). */
  private cmd = 0;
  private payload: Buffer = Buffer.alloc(0);

  // Paths as latin1: one char per byte, so two different byte strings never compare equal.
  private str(t: number): string {
    const v = this.attr(this.payload, t);
    if (!v) throw new StreamProblem("BAD_STREAM", `stream command ${this.cmd} lacks attribute ${t}`);
    return v.toString("latin1");
  }

  private u64(t: number): bigint {
    const v = this.attr(this.payload, t);
    if (!v) throw new StreamProblem("BAD_STREAM", `stream command ${this.cmd} lacks attribute ${t}`);
    return v.readBigUInt64LE(0);
  }

  private uuid(t: number): string {
    const v = this.attr(this.payload, t);
    if (!v || v.length !== 16)
      throw new StreamProblem("BAD_STREAM", `stream command ${this.cmd} lacks a UUID`);
    return uuidString(v);
  }

  /** A path of this command: inside the tree, and not through a symlink. */
  private path(t: number, what: string, opts?: { root?: boolean; self?: boolean; verb?: string }): string {
    const v = this.str(t);
    checkInside(v, what, opts?.root);
    this.paths.check(v, opts?.self === true, opts?.verb ?? "writes");
    return v;
  }

  // Per command: no allocation beyond the strings it checks (write commands, most of a stream,
  // check their path only when it differs from the last one checked; their data is not touched).
  command(cmd: number, payload: Buffer): void {
    // The kernel's description of a received tree: only what carries modes, xattrs and names.
    if (this.expect.listing && LISTING_SKIPS.has(cmd)) {
      this.facts.commands++;
      if (cmd === C.END) this.ended = true;
      return;
    }
    this.attrAt.fill(0);
    let p = 0;
    while (p < payload.length) {
      if (payload.length - p < 4)
        throw new StreamProblem("BAD_STREAM", "a stream command has a torn attribute");
      const type = payload.readUInt16LE(p);
      const len = payload.readUInt16LE(p + 2);
      if (p + 4 + len > payload.length)
        throw new StreamProblem("BAD_STREAM", "a stream attribute runs past its command");
      if (type === 0 || type > MAX_ATTR)
        throw new StreamProblem("BAD_STREAM", `stream command ${cmd} has an unknown attribute type ${type}`);
      if (this.attrAt[type])
        throw new StreamProblem("BAD_STREAM", `stream command ${cmd} has attribute ${type} twice`);
      if (U64_ATTRS.has(type) && len !== 8)
        throw new StreamProblem(
          "BAD_STREAM",
          `stream command ${cmd} has a ${len}-byte value for the 64-bit attribute ${type}`,
        );
      this.attrAt[type] = p + 5;
      this.attrLen[type] = len;
      p += 4 + len;
    }
    this.cmd = cmd;
    this.payload = payload;
    if (cmd === C.WRITE && this.facts.commands > 0) {
      const path = this.attr(payload, A.PATH);
      if (path && path.length > 0 && path.equals(this.lastPath)) {
        this.facts.commands++;
        return;
      }
    }
    const f = this.facts;
    f.commands++;
    if (f.commands === 1 && cmd !== C.SUBVOL && cmd !== C.SNAPSHOT) {
      throw new StreamProblem("BAD_STREAM", "the stream does not start with a subvolume");
    }
    switch (cmd) {
      case C.SUBVOL:
      case C.SNAPSHOT: {
        if (f.commands !== 1)
          throw new StreamProblem("BAD_STREAM", "the stream holds more than one subvolume");
        const name = this.str(A.PATH);
        if (name.includes("/") || name === "." || name === ".." || name.length === 0 || name.includes("\0")) {
          throw new StreamProblem(
            "BAD_STREAM",
            `the stream's subvolume name ${JSON.stringify(shown(name))} is not a plain name`,
          );
        }
        f.subvolName = name;
        f.subvolUuid = this.uuid(A.UUID);
        this.u64(A.CTRANSID);
        if (this.expect.listing) return;
        if (this.expect.uuid && f.subvolUuid !== this.expect.uuid) {
          throw new StreamProblem(
            "BAD_STREAM",
            `the stream's subvolume UUID ${f.subvolUuid} is not the manifest's ${this.expect.uuid}`,
          );
        }
        if (cmd === C.SNAPSHOT) {
          f.parentUuid = this.uuid(A.CLONE_UUID);
          if (f.parentUuid !== this.expect.parentUuid) {
            throw new StreamProblem(
              "PARENT_MISMATCH",
              this.expect.parentUuid
                ? `the stream is incremental against ${f.parentUuid}, the manifest names parent ${this.expect.parentUuid}`
                : "the stream is incremental but the manifest names no parent",
            );
          }
        } else if (this.expect.parentUuid) {
          throw new StreamProblem(
            "PARENT_MISMATCH",
            "the manifest names a parent but the stream is a full stream",
          );
        }
        return;
      }
      case C.END:
        this.ended = true;
        return;
      case C.WRITE: {
        const raw = this.attr(payload, A.PATH);
        this.path(A.PATH, "path", { self: true });
        this.u64(A.FILE_OFFSET);
        this.lastPath = Buffer.from(raw!);
        return;
      }
      case C.TRUNCATE:
        this.path(A.PATH, "path", { self: true });
        this.u64(A.SIZE);
        return;
      case C.MKFILE:
      case C.MKDIR:
      case C.MKFIFO:
      case C.MKSOCK:
        this.paths.touch(this.path(A.PATH, "path"));
        return;
      case C.UPDATE_EXTENT:
        this.path(A.PATH, "path");
        return;
      case C.UNLINK:
      case C.RMDIR:
        this.paths.removed(this.path(A.PATH, "path"));
        return;
      case C.SYMLINK: {
        // PATH_LINK of a symlink is its target: any text, never followed by the agent
        const p = this.path(A.PATH, "path");
        this.paths.touch(p);
        this.paths.symlinkCreated(p, this.str(A.PATH_LINK));
        return;
      }
      case C.CHOWN: {
        this.path(A.PATH, "path", { root: true });
        const uid = this.u64(A.UID);
        const gid = this.u64(A.GID);
        // btrfs receive passes these to lchown(2) as 32-bit ids: a larger value would be cut.
        if (uid >= 0xffffffffn || gid >= 0xffffffffn)
          throw new StreamProblem("BAD_STREAM", `the stream sets the impossible owner ${uid}:${gid}`);
        return;
      }
      case C.UTIMES:
      case C.REMOVE_XATTR: // "" is the subvolume's root directory
        this.path(A.PATH, "path", { root: true });
        return;
      case C.MKNOD: {
        const p = this.path(A.PATH, "path");
        this.paths.touch(p);
        const mode = this.u64(A.MODE);
        this.u64(A.RDEV);
        if ((mode & ~(S_IFMT | 0o7777n)) !== 0n || !NODE_TYPES.has(mode & S_IFMT)) {
          throw new StreamProblem(
            "BAD_STREAM",
            `the stream makes ${shown(p)} with the impossible mode 0o${mode.toString(8)}`,
          );
        }
        const type = mode & S_IFMT;
        if (type === S_IFCHR || type === S_IFBLK) push(f.devices, p);
        if (mode & 0o6000n) push(f.setuid, p);
        return;
      }
      case C.RENAME: {
        const from = this.path(A.PATH, "path", { verb: "renames" });
        const to = this.path(A.PATH_TO, "rename target", { verb: "renames" });
        this.renamed(from, to);
        return;
      }
      case C.LINK:
        this.paths.touch(this.path(A.PATH, "path", { verb: "links" }));
        this.path(A.PATH_LINK, "hard link target", { verb: "links" });
        return;
      case C.CHMOD: {
        const p = this.path(A.PATH, "path", { root: true, self: true, verb: "changes a mode" });
        const mode = this.u64(A.MODE);
        // send's chmod carries the permission bits only; anything else is crafted (bit 63 of a
        // mode read as a JavaScript number would have eaten the low bits, setuid among them).
        if ((mode & ~0o7777n) !== 0n)
          throw new StreamProblem(
            "BAD_STREAM",
            `the stream sets the impossible mode 0x${mode.toString(16)} on ${shown(p)} (bits outside 0o7777)`,
          );
        if (mode & 0o6000n) push(f.setuid, p);
        return;
      }
      case C.SET_XATTR: {
        const p = this.path(A.PATH, "path", { root: true, verb: "sets an extended attribute" });
        const raw = this.attr(payload, A.XATTR_NAME);
        const value = this.attr(payload, A.XATTR_DATA);
        if (!raw || !value)
          throw new StreamProblem(
            "BAD_STREAM",
            `stream command ${cmd} lacks its extended attribute name or value`,
          );
        const { name, kind } = classifyXattr(raw);
        if (kind === "capability") push(f.capabilities, `${p}\0${describeCapability(value)}`);
        if (kind === "privileged") {
          push(f.xattrs, `${p}\0${name}`);
          f.xattrNames.add(name);
        }
        if (f.allXattrs) {
          const list = f.allXattrs.get(p) ?? [];
          const i = list.findIndex(([n]) => n === name);
          if (i >= 0) list.splice(i, 1);
          list.push([name, Buffer.from(value)]);
          f.allXattrs.set(p, list);
        }
        return;
      }
      case C.CLONE: {
        this.path(A.PATH, "path", { self: true, verb: "clones data" });
        const src = this.str(A.CLONE_PATH);
        checkInside(src, "clone source");
        this.u64(A.FILE_OFFSET);
        this.u64(A.CLONE_OFFSET);
        this.u64(A.CLONE_LEN);
        this.u64(A.CLONE_CTRANSID);
        const from = this.uuid(A.CLONE_UUID);
        if (from !== f.subvolUuid && (from !== f.parentUuid || !f.parentUuid)) {
          throw new StreamProblem(
            "STREAM_ESCAPE",
            `the stream clones data from subvolume ${from}, which is neither itself nor its parent`,
          );
        }
        this.paths.checkCloneSource(src, from !== f.subvolUuid);
        f.clones++;
        return;
      }
      default:
        throw new StreamProblem("BAD_STREAM", `unknown btrfs send command ${cmd}`);
    }
  }
}
