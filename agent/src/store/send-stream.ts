// Inspects a `btrfs send` stream (format version 1) before `btrfs receive` sees it: structure,
// one subvolume, the end marker, paths that stay inside the subvolume and never go through a
// symlink, clones only from the subvolume itself or its declared parent (sources looked up without
// following symlinks, send-paths.ts), every 64-bit field read exactly (BigInt), modes without bits
// outside the file type and 0o7777, extended attribute names checked byte by byte against an
// allow-list (xattr-names.ts), and special content (setuid/setgid anywhere including the
// subvolume's root, capabilities, privileged xattrs, device nodes). btrfs-progs documents that
// receive does not validate crafted streams, so the agent refuses what it cannot vouch for
// (RELIABILITY.md cases 7 and 27). The same parser reads the kernel's own description of a
// received subvolume (`btrfs send --no-data`, option `listing`): what is checked after the
// receive is what the kernel holds, not what the stream said.
// Layout: "btrfs-stream\0" u32le version; then commands: u32le len, u16le cmd, u32le crc, TLVs
// (u16le type, u16le len, data).
import { CommandChecker, StreamProblem, type InspectorExpect, type SendStreamFacts } from "./send-command";
import { PathProblem } from "./send-paths";
import { XattrRefused } from "./xattr-names";

export { StreamProblem, type InspectorExpect, type SendStreamFacts };

const MAGIC = Buffer.from("btrfs-stream\0", "latin1");
const HEADER_BYTES = MAGIC.length + 4;
const CMD_HEADER_BYTES = 10;
/** btrfs-progs' v1 send buffer is 64 KiB; a longer command is crafted (and would make receive allocate it). */
const MAX_CMD_BYTES = 64 * 1024;

export class SendStreamInspector {
  /** The part of a command (or of the stream header) that arrived so far, when split across pushes. */
  private readonly scratch = Buffer.allocUnsafe(CMD_HEADER_BYTES + MAX_CMD_BYTES);
  private have = 0;
  private sawHeader = false;
  private readonly c: CommandChecker;

  constructor(expect: InspectorExpect) {
    this.c = new CommandChecker(expect);
  }

  private get ended(): boolean {
    return this.c.ended;
  }

  push(chunk: Buffer): void {
    try {
      this.pushInner(chunk);
    } catch (e) {
      if (e instanceof PathProblem) throw new StreamProblem(e.kind, e.message);
      if (e instanceof XattrRefused) throw new StreamProblem("SPECIAL_FILES", e.message);
      throw e;
    }
  }

  private tooLong(len: number): StreamProblem {
    return new StreamProblem(
      "BAD_STREAM",
      `a stream command claims ${len} bytes, an impossible length for a btrfs send command (at most ${MAX_CMD_BYTES})`,
    );
  }

  private pushInner(chunk: Buffer): void {
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
      if (!this.scratch.subarray(0, MAGIC.length).equals(MAGIC))
        throw new StreamProblem("BAD_STREAM", "not a btrfs send stream (bad magic)");
      const version = this.scratch.readUInt32LE(MAGIC.length);
      if (version !== 1)
        throw new StreamProblem(
          "BAD_STREAM",
          `btrfs send stream version ${version} is not supported (only 1)`,
        );
      this.sawHeader = true;
      this.have = 0;
    }
    // Finish a command split across pushes in the scratch buffer (no allocation per command).
    if (this.have > 0) {
      if (!gather(CMD_HEADER_BYTES)) return;
      const len = this.scratch.readUInt32LE(0);
      if (len > MAX_CMD_BYTES) throw this.tooLong(len);
      if (!gather(CMD_HEADER_BYTES + len)) return;
      this.have = 0;
      this.c.command(
        this.scratch.readUInt16LE(4),
        this.scratch.subarray(CMD_HEADER_BYTES, CMD_HEADER_BYTES + len),
      );
      if (this.ended) {
        if (off !== chunk.length)
          throw new StreamProblem("BAD_STREAM", "the stream has bytes after its end marker");
        return;
      }
    }
    while (chunk.length - off >= CMD_HEADER_BYTES) {
      const len = chunk.readUInt32LE(off);
      const cmd = chunk.readUInt16LE(off + 4);
      if (len > MAX_CMD_BYTES) throw this.tooLong(len);
      if (chunk.length - off < CMD_HEADER_BYTES + len) break;
      this.c.command(cmd, chunk.subarray(off + CMD_HEADER_BYTES, off + CMD_HEADER_BYTES + len));
      off += CMD_HEADER_BYTES + len;
      if (this.ended) {
        if (off !== chunk.length)
          throw new StreamProblem("BAD_STREAM", "the stream has bytes after its end marker");
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
    if (!this.sawHeader)
      throw new StreamProblem("BAD_STREAM", "the stream is empty or shorter than its header");
    if (!this.ended) {
      throw new StreamProblem(
        "BAD_STREAM",
        this.have > 0
          ? `the stream ends inside a command (${this.have} bytes of it), before its end marker`
          : "the stream ends without its end marker",
      );
    }
    return this.c.report();
  }
}
