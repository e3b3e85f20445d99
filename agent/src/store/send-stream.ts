// Inspects a `btrfs send` stream (format version 1) before `btrfs receive` sees it: structure,
// one subvolume, the end marker, paths that stay inside the subvolume, clones only from the
// subvolume itself or its declared parent, and special content (setuid/setgid, capabilities,
// device nodes). btrfs-progs documents that receive does not validate crafted streams, so the
// agent refuses what it cannot vouch for (RELIABILITY.md case 7).
// Layout: "btrfs-stream\0" u32le version; then commands: u32le len, u16le cmd, u32le crc, TLVs
// (u16le type, u16le len, data).

const MAGIC = Buffer.from("btrfs-stream\0", "latin1");
const HEADER_BYTES = MAGIC.length + 4;
const CMD_HEADER_BYTES = 10;
/** btrfs-progs' v1 send buffer is 64 KiB; a longer command is crafted (and would make receive allocate it). */
const MAX_CMD_BYTES = 64 * 1024;

const C = {
  SUBVOL: 1, SNAPSHOT: 2, MKFILE: 3, MKDIR: 4, MKNOD: 5, MKFIFO: 6, MKSOCK: 7, SYMLINK: 8, RENAME: 9,
  LINK: 10, UNLINK: 11, RMDIR: 12, SET_XATTR: 13, REMOVE_XATTR: 14, WRITE: 15, CLONE: 16, TRUNCATE: 17,
  CHMOD: 18, CHOWN: 19, UTIMES: 20, END: 21, UPDATE_EXTENT: 22,
} as const;
const A = {
  UUID: 1, CTRANSID: 2, INO: 3, SIZE: 4, MODE: 5, UID: 6, GID: 7, RDEV: 8, CTIME: 9, MTIME: 10, ATIME: 11,
  OTIME: 12, XATTR_NAME: 13, XATTR_DATA: 14, PATH: 15, PATH_TO: 16, PATH_LINK: 17, FILE_OFFSET: 18, DATA: 19,
  CLONE_UUID: 20, CLONE_CTRANSID: 21, CLONE_PATH: 22, CLONE_OFFSET: 23, CLONE_LEN: 24,
} as const;
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const REPORT_LIMIT = 100;

export class StreamProblem extends Error {
  constructor(
    readonly kind: "BAD_STREAM" | "PARENT_MISMATCH",
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
  setuid: string[];
  capabilities: string[];
  devices: string[];
}

function uuidString(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A path inside the subvolume: relative, no `..`, `.` or empty components, no NUL. */
function checkInside(path: string, what: string, allowRoot = false): void {
  if (allowRoot && path === "") return;
  if (path.length === 0 || path.startsWith("/") || path.includes("\0")) {
    throw new StreamProblem("BAD_STREAM", `the stream names a ${what} outside the tree: ${JSON.stringify(path)}`);
  }
  for (const part of path.split("/")) {
    if (part === ".." || part === "." || part === "") {
      throw new StreamProblem("BAD_STREAM", `the stream names a ${what} outside the tree: ${JSON.stringify(path)}`);
    }
  }
}

function push(list: string[], v: string): void {
  if (list.length < REPORT_LIMIT) list.push(v);
}

export class SendStreamInspector {
  /** The part of a command (or of the stream header) that arrived so far, when split across pushes. */
  private readonly scratch = Buffer.allocUnsafe(CMD_HEADER_BYTES + MAX_CMD_BYTES);
  private have = 0;
  private sawHeader = false;
  private ended = false;
  private facts: SendStreamFacts = { subvolName: "", subvolUuid: "", parentUuid: null, commands: 0, setuid: [], capabilities: [], devices: [] };

  constructor(private readonly expect: { uuid: string | undefined; parentUuid: string | null }) {}

  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length) throw new StreamProblem("BAD_STREAM", "the stream has bytes after its end marker");
      return;
    }
    let off = 0;
    const gather = (upTo: number) => {
      if (this.have >= upTo) return true;
      const take = Math.min(upTo - this.have, chunk.length - off);
      chunk.copy(this.scratch, this.have, off, off + take);
      this.have += take;
      off += take;
      return this.have === upTo;
    };
    if (!this.sawHeader) {
      if (!gather(HEADER_BYTES)) return;
      if (!this.scratch.subarray(0, MAGIC.length).equals(MAGIC)) throw new StreamProblem("BAD_STREAM", "not a btrfs send stream (bad magic)");
      const version = this.scratch.readUInt32LE(MAGIC.length);
      if (version !== 1) throw new StreamProblem("BAD_STREAM", `btrfs send stream version ${version} is not supported (only 1)`);
      this.sawHeader = true;
      this.have = 0;
    }
    // Finish a command split across pushes in the scratch buffer (no allocation per command).
    if (this.have > 0) {
      if (!gather(CMD_HEADER_BYTES)) return;
      const len = this.scratch.readUInt32LE(0);
      if (len > MAX_CMD_BYTES) throw new StreamProblem("BAD_STREAM", `a stream command claims ${len} bytes (limit ${MAX_CMD_BYTES})`);
      if (!gather(CMD_HEADER_BYTES + len)) return;
      this.have = 0;
      this.command(this.scratch.readUInt16LE(4), this.scratch.subarray(CMD_HEADER_BYTES, CMD_HEADER_BYTES + len));
      if (this.ended) {
        if (off !== chunk.length) throw new StreamProblem("BAD_STREAM", "the stream has bytes after its end marker");
        return;
      }
    }
    while (chunk.length - off >= CMD_HEADER_BYTES) {
      const len = chunk.readUInt32LE(off);
      const cmd = chunk.readUInt16LE(off + 4);
      if (len > MAX_CMD_BYTES) throw new StreamProblem("BAD_STREAM", `a stream command claims ${len} bytes (limit ${MAX_CMD_BYTES})`);
      if (chunk.length - off < CMD_HEADER_BYTES + len) break;
      this.command(cmd, chunk.subarray(off + CMD_HEADER_BYTES, off + CMD_HEADER_BYTES + len));
      off += CMD_HEADER_BYTES + len;
      if (this.ended) {
        if (off !== chunk.length) throw new StreamProblem("BAD_STREAM", "the stream has bytes after its end marker");
        return;
      }
    }
    // Keep the unfinished command (copied: the caller reuses its buffer). It fits: its length
    // was checked above, or it is shorter than a command header.
    chunk.copy(this.scratch, 0, off);
    this.have = chunk.length - off;
  }

  /** Call at the end of input; returns what the stream holds or throws StreamProblem. */
  finish(): SendStreamFacts {
    if (!this.sawHeader) throw new StreamProblem("BAD_STREAM", "the stream is empty or shorter than its header");
    if (!this.ended) throw new StreamProblem("BAD_STREAM", "the stream has no end marker (truncated?)");
    return this.facts;
  }

  /** Where each attribute of the current command lies in its payload: offset + 1 (0: absent), length. */
  private readonly attrAt = new Int32Array(32);
  private readonly attrLen = new Int32Array(32);
  /** The last path that passed checkInside (a copy): file data comes as runs of writes to one path. */
  private lastPath = Buffer.alloc(0);

  private attr(payload: Buffer, t: number): Buffer | undefined {
    const at = this.attrAt[t]!;
    return at ? payload.subarray(at - 1, at - 1 + this.attrLen[t]!) : undefined;
  }

  // Per command: no allocation beyond the strings it checks (write commands, most of a stream,
  // check their path only when it differs from the last one checked; their data is not touched).
  private command(cmd: number, payload: Buffer): void {
    this.attrAt.fill(0);
    let p = 0;
    while (p < payload.length) {
      if (payload.length - p < 4) throw new StreamProblem("BAD_STREAM", "a stream command has a torn attribute");
      const type = payload.readUInt16LE(p);
      const len = payload.readUInt16LE(p + 2);
      if (p + 4 + len > payload.length) throw new StreamProblem("BAD_STREAM", "a stream attribute runs past its command");
      if (type < 32) {
        this.attrAt[type] = p + 5;
        this.attrLen[type] = len;
      }
      p += 4 + len;
    }
    const str = (t: number): string => {
      const v = this.attr(payload, t);
      if (!v) throw new StreamProblem("BAD_STREAM", `stream command ${cmd} lacks attribute ${t}`);
      return v.toString("utf8");
    };
    const u64 = (t: number): number => {
      const v = this.attr(payload, t);
      if (!v || v.length !== 8) throw new StreamProblem("BAD_STREAM", `stream command ${cmd} lacks attribute ${t}`);
      return Number(v.readBigUInt64LE(0));
    };
    const uuid = (t: number): string => {
      const v = this.attr(payload, t);
      if (!v || v.length !== 16) throw new StreamProblem("BAD_STREAM", `stream command ${cmd} lacks a UUID`);
      return uuidString(v);
    };
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
        if (f.commands !== 1) throw new StreamProblem("BAD_STREAM", "the stream holds more than one subvolume");
        const name = str(A.PATH);
        if (name.includes("/") || name === "." || name === ".." || name.length === 0) {
          throw new StreamProblem("BAD_STREAM", `the stream's subvolume name ${JSON.stringify(name)} is not a plain name`);
        }
        f.subvolName = name;
        f.subvolUuid = uuid(A.UUID);
        if (this.expect.uuid && f.subvolUuid !== this.expect.uuid) {
          throw new StreamProblem("BAD_STREAM", `the stream's subvolume UUID ${f.subvolUuid} is not the manifest's ${this.expect.uuid}`);
        }
        if (cmd === C.SNAPSHOT) {
          f.parentUuid = uuid(A.CLONE_UUID);
          if (f.parentUuid !== this.expect.parentUuid) {
            throw new StreamProblem(
              "PARENT_MISMATCH",
              this.expect.parentUuid
                ? `the stream is incremental against ${f.parentUuid}, the manifest names parent ${this.expect.parentUuid}`
                : "the stream is incremental but the manifest names no parent",
            );
          }
        } else if (this.expect.parentUuid) {
          throw new StreamProblem("PARENT_MISMATCH", "the manifest names a parent but the stream is a full stream");
        }
        return;
      }
      case C.END:
        this.ended = true;
        return;
      case C.WRITE: {
        const path = this.attr(payload, A.PATH);
        checkInside(str(A.PATH), "path");
        this.lastPath = Buffer.from(path!);
        return;
      }
      case C.MKFILE:
      case C.MKDIR:
      case C.MKFIFO:
      case C.MKSOCK:
      case C.UNLINK:
      case C.RMDIR:
      case C.TRUNCATE:
      case C.UPDATE_EXTENT:
      case C.SYMLINK: // PATH_LINK of a symlink is its target: any text, never followed by the agent
        checkInside(str(A.PATH), "path");
        return;
      case C.CHOWN:
      case C.UTIMES:
      case C.REMOVE_XATTR: // "" is the subvolume's root directory
        checkInside(str(A.PATH), "path", true);
        return;
      case C.MKNOD: {
        const path = str(A.PATH);
        checkInside(path, "path");
        const type = u64(A.MODE) & S_IFMT;
        if (type === S_IFCHR || type === S_IFBLK) push(f.devices, path);
        return;
      }
      case C.RENAME: {
        const from = str(A.PATH);
        const to = str(A.PATH_TO);
        checkInside(from, "path");
        checkInside(to, "rename target");
        // send creates entries under temporary names (o257-12-0) and renames them: follow that.
        for (const list of [f.setuid, f.devices, f.capabilities]) {
          for (let i = 0; i < list.length; i++) {
            const v = list[i] as string;
            if (v === from) list[i] = to;
            else if (v.startsWith(`${from}/`)) list[i] = to + v.slice(from.length);
          }
        }
        return;
      }
      case C.LINK:
        checkInside(str(A.PATH), "path");
        checkInside(str(A.PATH_LINK), "hard link target");
        return;
      case C.CHMOD: {
        const path = str(A.PATH);
        checkInside(path, "path", true);
        if (u64(A.MODE) & 0o6000) push(f.setuid, path);
        return;
      }
      case C.SET_XATTR: {
        const path = str(A.PATH);
        checkInside(path, "path", true);
        if (str(A.XATTR_NAME) === "security.capability") push(f.capabilities, path);
        return;
      }
      case C.CLONE: {
        checkInside(str(A.PATH), "path");
        checkInside(str(A.CLONE_PATH), "clone source");
        const from = uuid(A.CLONE_UUID);
        if (from !== f.subvolUuid && from !== f.parentUuid) {
          throw new StreamProblem("BAD_STREAM", `the stream clones data from subvolume ${from}, which is neither itself nor its parent`);
        }
        return;
      }
      default:
        throw new StreamProblem("BAD_STREAM", `unknown btrfs send command ${cmd}`);
    }
  }
}
