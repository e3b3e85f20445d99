// Where the console keeps release subvolumes inside its data directory.
import { join } from "node:path";
import { assertAppName, assertVersion } from "./names";

export const subvolumesRoot = (dataDir: string) => join(dataDir, "subvolumes");
export const stagingRoot = (dataDir: string) => join(dataDir, "subvolumes", ".staging");
export function releaseSubvolumePath(dataDir: string, app: string, version: string): string {
  return join(dataDir, "subvolumes", "apps", assertAppName(app), assertVersion(version));
}
