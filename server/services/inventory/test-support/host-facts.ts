// What a test host reports besides its apps, before a test changes it: a small Debian host on btrfs.
import type { CollectedFacts } from "@/server/services/inventory/types";

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
