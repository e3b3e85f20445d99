// The two store backends behind one interface: btrfs (read-only subvolumes from `btrfs send`
// streams) and plain directories (keel-tree-1 archives, unchanged files hard-linked from the
// parent). The receive command drives them: inspect while verifying, unpack into .staging,
// check, commit into apps/<app>/<version>.
import type { ReleaseManifest, SpecialReport, StoreBackend, StreamFormat } from "../../protocol";
import type { Inspector } from "./stage";

export interface FormatInspector extends Inspector {
  /** Throws (StreamProblem) when the stream ended badly; returns its special content. */
  finish(): SpecialReport;
}

export interface Unpacked {
  /** The new tree inside .staging/<op>/. */
  treePath: string;
  receivedUuid: string | null;
}

export interface Backend {
  name: StoreBackend;
  format: StreamFormat;
  inspector(manifest: ReleaseManifest, parentUuid: string | null): FormatInspector;
  /** Unpacks the verified stream (read from fd at offset 0) into opDir. */
  unpack(opts: { fd: number; opDir: string; manifest: ReleaseManifest; parentPath: string | null }): Promise<Unpacked>;
  /** Post-unpack checks: exactly the expected tree, read-only, counts as in the manifest. */
  check(opts: { opDir: string; unpacked: Unpacked; manifest: ReleaseManifest; parentPath: string | null }): Promise<SpecialReport>;
  /** Places the checked tree at finalPath (atomically appears there). */
  commit(treePath: string, finalPath: string): Promise<void>;
  /** Received UUID of an installed tree (btrfs), or null. */
  receivedUuidOf(path: string): Promise<string | null>;
}
