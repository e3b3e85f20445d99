// Where the console keeps release subvolumes inside its data directory.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { assertAppName, assertVersion } from "./names";

export const subvolumesRoot = (dataDir: string) => join(dataDir, "subvolumes");
export const stagingRoot = (dataDir: string) => join(dataDir, "subvolumes", ".staging");
export function releaseSubvolumePath(dataDir: string, app: string, version: string): string {
  const path = join(dataDir, "subvolumes", "apps", assertAppName(app), assertVersion(version));
  // A pushed runtime is received by the console's agent into runtimes/ (its store section).
  const runtime = join(dataDir, "subvolumes", "runtimes", app, version);
  return !existsSync(path) && existsSync(runtime) ? runtime : path;
}
