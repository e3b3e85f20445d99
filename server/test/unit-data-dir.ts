// Vitest global setup for unit and integration tests: the console's data directory (KEEL_DATA_DIR, `.keel` by
// default) points into a temporary directory for the run, removed afterwards, so no test can write
// into the checkout (signing-key secret, artifacts, console identity). vitest.config.mts makes it
// (KEEL_UNIT_DATA_DIR, shared by every load of the config in this run); this removes it at the end.
import { rmSync } from "node:fs";

export default function setup(): () => void {
  const dir = process.env.KEEL_UNIT_DATA_DIR;
  return () => {
    if (dir && dir.includes("keel-unit-data-")) rmSync(dir, { recursive: true, force: true });
  };
}
