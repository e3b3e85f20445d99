// Facts as a host's agent reports them, for inventory tests: a fixed machine holding the given
// apps (each version 1 byte, unsigned), and a seeded pseudo-random sequence to vary them with.
import type { CollectedFacts } from "@/server/services/inventory/types";

export function factsWithApps(
  apps: Record<string, { current: string | null; versions: string[] }>,
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
    apps: Object.entries(apps).map(([app, a]) => ({
      app,
      kind: "app",
      current: a.current,
      previous: null,
      versions: a.versions.map((version) => ({
        version,
        sizeBytes: 1,
        receivedUuid: null,
        createdAt: null,
        signer: null,
      })),
    })),
  };
}

/** A deterministic pseudo-random sequence, so a failure can be replayed: r(n) is in [0, n). */
export function rng(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % n;
  };
}
