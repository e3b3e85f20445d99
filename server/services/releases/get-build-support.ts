import { mkdir } from "node:fs/promises";
import { isOnBtrfs } from "./btrfs";
import type { ReleaseDeps } from "./deps";

/** Whether the console can build releases here, and if not, why (shown on the upload page). */
export async function getBuildSupport(deps: Pick<ReleaseDeps, "dataDir">) {
  await mkdir(deps.dataDir, { recursive: true });
  const canBuild = await isOnBtrfs(deps.dataDir);
  return {
    canBuild,
    dataDir: deps.dataDir,
    reason: canBuild
      ? null
      : `the console's data directory ${deps.dataDir} is not on btrfs: building is off, pushing releases built elsewhere works`,
  };
}
