// Picks the backend for a store by its file system.
import type { Backend } from "./backend";
import { btrfsBackend } from "./btrfs";
import type { FsInfo } from "./detect";
import { plainBackend } from "./plain";

export function backendFor(fs: FsInfo): Backend {
  return fs.isBtrfs ? btrfsBackend : plainBackend;
}
