// Where the paths of a `btrfs send` stream lead (RELIABILITY case 27). btrfs receive runs chrooted
// into the receive directory, but it opens clone sources relative to the file system's mount root,
// outside the chroot, following symlinks: a clone source that goes through a symlink (one the
// stream made, or one in the installed parent) can read any file of the host. And any command that
// goes through a symlink works on something the manifest never described. So every path is
// resolved here the way the kernel will, without following anything: a path whose directories
// include a symlink the stream created is refused, and a clone source is looked up component by
// component with lstat in the installed parent (read-only, so what is checked is what receive
// opens). Paths are kept as latin1 strings (one char per byte: exact, whatever the encoding).
import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export class PathProblem extends Error {
  constructor(
    readonly kind: "BAD_STREAM" | "STREAM_ESCAPE",
    message: string,
  ) {
    super(message);
  }
}

/** A path for messages (the bytes as UTF-8; "." for the subvolume's root). */
export function shown(p: string): string {
  return p === "" ? "." : Buffer.from(p, "latin1").toString("utf8");
}

/** A path inside the subvolume: relative, no `..`, `.` or empty components, no NUL. */
export function checkInside(path: string, what: string, allowRoot = false): void {
  if (allowRoot && path === "") return;
  let bad = path.length === 0 || path.startsWith("/") || path.includes("\0");
  if (!bad) {
    for (const part of path.split("/")) {
      if (part === ".." || part === "." || part === "") bad = true;
    }
  }
  if (bad)
    throw new PathProblem(
      "STREAM_ESCAPE",
      `the stream names a ${what} outside the tree: ${JSON.stringify(shown(path))}`,
    );
}

type ParentEntry = "dir" | "file" | "symlink" | "other" | "missing";

/** Tracks the symlinks a stream creates (through renames) and checks where paths lead. */
export class PathTracker {
  /** Symlinks the stream created, by current path → target. */
  private readonly symlinks = new Map<string, string>();
  /**
   * Incremental streams: paths the stream created, removed or renamed (from and to). A path none of
   * whose prefixes is here is still what the parent holds there (the new tree starts as its snapshot).
   */
  private readonly touched = new Set<string>();
  private readonly parentCache = new Map<string, { kind: ParentEntry; target?: string }>();

  constructor(private readonly parentDir: string | null) {}

  symlinkCreated(path: string, target: string): void {
    this.symlinks.set(path, target);
  }

  /** The stream creates, removes or links something at path. */
  touch(path: string): void {
    if (this.parentDir) this.touched.add(path);
  }

  removed(path: string): void {
    this.symlinks.delete(path);
    this.touch(path);
  }

  renamed(from: string, to: string): void {
    this.touch(from);
    this.touch(to);
    if (this.symlinks.size === 0) return;
    for (const [p, t] of [...this.symlinks]) {
      if (p === from) {
        this.symlinks.delete(p);
        this.symlinks.set(to, t);
      } else if (p.startsWith(`${from}/`)) {
        this.symlinks.delete(p);
        this.symlinks.set(to + p.slice(from.length), t);
      }
    }
    this.symlinks.delete(from);
  }

  /**
   * Refuses a path that goes through a symlink the stream created: its directories, and with
   * `self` (commands that open or chmod the path, which follow a final symlink) the path itself.
   */
  check(path: string, self: boolean, verb: string): void {
    if (this.parentDir) this.checkParentSymlinks(path, self, verb);
    if (this.symlinks.size === 0) return;
    let i = path.indexOf("/");
    while (i >= 0) {
      this.refuseSymlink(path.slice(0, i), path, verb);
      i = path.indexOf("/", i + 1);
    }
    if (self) this.refuseSymlink(path, path, verb);
  }

  /** A symlink the new tree still holds from its parent, on the way to path (lstat in the parent, cached per prefix). */
  private checkParentSymlinks(path: string, self: boolean, verb: string): void {
    let end = -1;
    for (;;) {
      end = path.indexOf("/", end + 1);
      const last = end < 0;
      const prefix = last ? path : path.slice(0, end);
      if (this.touched.has(prefix) || (last && !self) || prefix === "") return;
      const e = this.parentEntry(prefix);
      if (e.kind === "symlink") {
        throw new PathProblem(
          "STREAM_ESCAPE",
          `the stream ${verb} through a symlink of the parent (${shown(prefix)} → ${shown(e.target ?? "?")}${last ? "" : `, for ${shown(path)}`})`,
        );
      }
      if (e.kind !== "dir" || last) return;
    }
  }

  private refuseSymlink(prefix: string, path: string, verb: string): void {
    const target = this.symlinks.get(prefix);
    if (target === undefined) return;
    throw new PathProblem(
      "STREAM_ESCAPE",
      `the stream ${verb} through a symlink (${shown(prefix)} → ${shown(target)}${prefix === path ? "" : `, for ${shown(path)}`})`,
    );
  }

  private parentEntry(rel: string): { kind: ParentEntry; target?: string } {
    let e = this.parentCache.get(rel);
    if (e) return e;
    // The path's exact bytes (a Buffer path: no re-encoding of names that are not UTF-8).
    const abs = Buffer.concat([Buffer.from(join(this.parentDir as string, "/")), Buffer.from(rel, "latin1")]);
    try {
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        e = { kind: "symlink" };
        try {
          e.target = readlinkSync(abs, { encoding: "buffer" }).toString("latin1");
        } catch {
          /* the target is for the message only */
        }
      } else e = { kind: st.isDirectory() ? "dir" : st.isFile() ? "file" : "other" };
    } catch {
      e = { kind: "missing" };
    }
    this.parentCache.set(rel, e);
    return e;
  }

  /**
   * A clone source: from the installed parent (`fromParent`), every directory on the way must be a
   * directory there and the source a regular file; from the subvolume itself, nothing on the way
   * may be a symlink, the stream's or one it still holds from the parent (check()).
   */
  checkCloneSource(path: string, fromParent: boolean): void {
    if (!fromParent) return this.check(path, true, "clones data");
    if (!this.parentDir) return;
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      const e = this.parentEntry(rel);
      const last = i === parts.length;
      if (e.kind === "symlink") {
        throw new PathProblem(
          "STREAM_ESCAPE",
          `the clone source parent/${shown(path)} leaves the parent: ${shown(rel)} is a symlink${e.target !== undefined ? ` (→ ${shown(e.target)})` : ""}`,
        );
      }
      if (e.kind === "missing")
        throw new PathProblem(
          "STREAM_ESCAPE",
          `the clone source parent/${shown(path)} does not exist in the parent (${shown(rel)} is missing)`,
        );
      if (!last && e.kind !== "dir")
        throw new PathProblem(
          "STREAM_ESCAPE",
          `the clone source parent/${shown(path)} leaves the parent: ${shown(rel)} is not a directory`,
        );
      if (last && e.kind !== "file")
        throw new PathProblem(
          "STREAM_ESCAPE",
          `the clone source parent/${shown(path)} is not a regular file of the parent`,
        );
    }
  }
}
