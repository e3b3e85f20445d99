// Facts as a host's agent reports them, for inventory tests: a fixed machine (hostFacts) holding the
// given apps (each version 1 byte, unsigned), random installed versions, and a seeded pseudo-random
// sequence.
import type { CollectedFacts } from "@/server/services/inventory/types";

type App = CollectedFacts["apps"][number];

/** What a test host reports besides its apps, before a test changes it: a small Debian host on btrfs. */
export const hostFacts = (): Omit<CollectedFacts, "apps"> => ({
  hostname: "h",
  machineId: "m",
  os: "Debian GNU/Linux 12 (bookworm)",
  kernel: "6.1.0",
  arch: "x86_64",
  agentVersion: "0.1.0",
  cpuCount: 2,
  cpuModel: "cpu",
  memoryBytes: 2 ** 31,
  store: { backend: "btrfs", totalBytes: 10 ** 9, usedBytes: 10 ** 8 },
});

function app(name: string, current: string | null, versions: string[]): App {
  return {
    app: name,
    kind: "app",
    current,
    previous: null,
    versions: versions.map((version) => ({
      version,
      sizeBytes: 1,
      receivedUuid: null,
      createdAt: null,
      signer: null,
    })),
  };
}

export function factsWithApps(
  apps: Record<string, { current: string | null; versions: string[] }>,
): CollectedFacts {
  return { ...hostFacts(), apps: Object.entries(apps).map(([name, a]) => app(name, a.current, a.versions)) };
}

/** Facts with each of `apps` installed 4 times in 5, in a random subset of `versions`. */
export function randomFacts(
  r: (n: number) => number,
  apps: string[],
  versions: string[],
  host: Partial<CollectedFacts> = {},
): CollectedFacts {
  return {
    ...hostFacts(),
    ...host,
    apps: apps
      .filter(() => r(5) !== 0)
      .map((name) => {
        const installed = versions.filter(() => r(2) === 0);
        return app(name, installed.length && r(6) !== 0 ? installed[r(installed.length)]! : null, installed);
      }),
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
