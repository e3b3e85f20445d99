import { buildStoreOnBtrfs } from "./btrfs";
import type { ReleaseDeps } from "./deps";

/** Whether the console can build releases here, and if not, why (shown on the upload page). */
export async function getBuildSupport(deps: Pick<ReleaseDeps, "dataDir">) {
  const canBuild = await buildStoreOnBtrfs(deps.dataDir);
  return {
    canBuild,
    dataDir: deps.dataDir,
    reason: canBuild
      ? null
      : `the console's build store ${deps.dataDir}/subvolumes is not on btrfs: building is off (start the console as root and it mounts a btrfs image there), pushing releases built elsewhere works`,
  };
}
