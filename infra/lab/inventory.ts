// The lab inventory file (the console imports it) and the lab's own state file.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { LabError, labPaths } from "./names";

/** One lab host as the console sees it. */
export interface LabHost {
  name: string;
  address: string;
  port: number;
  /** Login user for the console (root, key only). */
  user: string;
  /** Non-root login user allowed `sudo -n` (for the console's sudo mode); same key. */
  sudoUser: string;
  /** OpenSSH "SHA256:..." fingerprint of the host key pinned at `up` (not changed by `rekey`). */
  hostKeyFingerprint: string;
  index: number;
  netns: string;
  fsType: "btrfs" | "ext4";
}

export interface LabInventory {
  version: 1;
  lab: string;
  subnet: string;
  bridgeAddress: string;
  consoleKey: { publicKeyPath: string; privateKeyPath: string | null };
  sudoUser: string;
  hosts: LabHost[];
  updatedAt: string;
}

/** What `up` decided once for the lab (kept so a second `up` makes the same choices). */
export interface LabState {
  lab: string;
  tag: string;
  subnetOctet: number;
  consolePublicKeyPath: string;
  consolePrivateKeyPath: string | null;
  createdAt: string;
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new LabError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export function readInventory(lab: string): LabInventory {
  const p = labPaths(lab);
  const inv = readJson<LabInventory>(p.inventory);
  if (!inv)
    throw new LabError(
      `lab ${lab} has no inventory at ${p.inventory}; run \`npm run lab -- up N --lab ${lab}\``,
    );
  return inv;
}
