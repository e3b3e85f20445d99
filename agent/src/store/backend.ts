// The two store backends behind one interface: btrfs (read-only subvolumes from `btrfs send`
// streams) and plain directories (keel-tree-1 archives, unchanged files hard-linked from the
// parent). The receive command drives them: inspect while verifying, unpack the verified chunks
// into .staging as they are released, check, commit into apps/<app>/<version>.
import type { ReleaseManifest, SpecialReport, StoreBackend, StreamFormat } from "../../protocol";
import type { Inspector, VerifiedSink } from "./stage";

export interface FormatInspector extends Inspector {
  /** Throws (StreamProblem) when the stream ended badly; returns its special content. */
  finish(): SpecialReport & { clones?: number; xattrNames?: ReadonlySet<string> };
}

export interface Unpacked {
  /** The new tree inside .staging/<op>/. */
  treePath: string;
  receivedUuid: string | null;
}

/** Takes the verified stream chunk by chunk (VerifiedSink.write), then finishes or is aborted. */
export interface Unpacker extends VerifiedSink {
  /** The whole stream was verified and written: wait for the unpacker and return its tree. */
  finish(): Promise<Unpacked>;
  /** Stops the unpacker (killed, waited for); what it left in opDir is deleted with opDir. */
  abort(): Promise<void>;
}

export interface Backend {
  name: StoreBackend;
  format: StreamFormat;
  /** parentPath: the installed parent's tree (clone sources are looked up there without following symlinks). */
  inspector(manifest: ReleaseManifest, parentUuid: string | null, parentPath: string | null): FormatInspector;
  /** Starts unpacking into opDir; it is then fed verified chunks only, in order. */
  unpacker(opts: { opDir: string; manifest: ReleaseManifest; parentPath: string | null }): Promise<Unpacker>;
  /** Post-unpack checks: exactly the expected tree, read-only, counts as in the manifest. */
  /** streamClones: clone commands the stream held (their data did not come from the stream's bytes). */
  check(opts: {
    opDir: string;
    unpacked: Unpacked;
    manifest: ReleaseManifest;
    parentPath: string | null;
    streamClones?: number;
    /** Privileged xattr names the stream set (host security labels it did not set are the host's). */
    streamXattrNames?: ReadonlySet<string>;
  }): Promise<SpecialReport & { xattrNames?: ReadonlySet<string> }>;
  /** Places the checked tree at finalPath (atomically appears there). */
  commit(treePath: string, finalPath: string): Promise<void>;
  /** Received UUID of an installed tree (btrfs), or null. */
  receivedUuidOf(path: string): Promise<string | null>;
}
