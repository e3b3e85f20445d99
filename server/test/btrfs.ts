// A real btrfs file system for tests that need the console's data directory on btrfs (builds,
// deltas): a loop image `<root>/<name>.img` mounted at `<root>/<name>` (root only).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** Makes and mounts the file system; returns the mount point. */
export function mountBtrfs(root: string, name: string, size: string): string {
  const img = join(root, `${name}.img`);
  const mnt = join(root, name);
  mkdirSync(mnt, { recursive: true });
  execFileSync("truncate", ["-s", size, img]);
  execFileSync("mkfs.btrfs", ["-q", "-f", img], { stdio: "ignore" });
  execFileSync("mount", ["-o", "loop", img, mnt]);
  return mnt;
}

/** Unmounts (lazily when still busy); the loop device is released with it. */
export function unmountBtrfs(mnt: string): void {
  spawnSync("umount", [mnt]);
  if (spawnSync("mountpoint", ["-q", mnt]).status === 0) spawnSync("umount", ["-l", mnt]);
}
