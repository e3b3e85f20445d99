// Refresh facts for inventory tests: a replayable pseudo-random sequence and random installed
// versions per app (some apps missing, some without a current version), as an agent reports them.
import type { CollectedFacts } from "@/server/services/inventory/types";

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
export function rng(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % n;
  };
}

/** Facts with each of `apps` installed 4 times in 5, in a random subset of `versions`. */
export function randomFacts(
  r: (n: number) => number,
  apps: string[],
  versions: string[],
  host: Partial<CollectedFacts> = {},
): CollectedFacts {
  return {
    hostname: "h",
    machineId: "m",
    os: "Debian",
    kernel: "6.1",
    arch: "x86_64",
    agentVersion: "0.1.0",
    cpuCount: 2,
    cpuModel: "c",
    memoryBytes: 1,
    store: null,
    ...host,
    apps: apps
      .filter(() => r(5) !== 0)
      .map((app) => {
        const installed = versions.filter(() => r(2) === 0);
        return {
          app,
          kind: "app",
          current: installed.length && r(6) !== 0 ? installed[r(installed.length)]! : null,
          previous: null,
          versions: installed.map((version) => ({
            version,
            sizeBytes: 1,
            receivedUuid: null,
            createdAt: null,
            signer: null,
          })),
        };
      }),
  };
}
