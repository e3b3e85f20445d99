// A real btrfs file system for tests and benchmarks that need one (builds, deltas, receives): a loop
// image `<root>/<name>.img` mounted at `<root>/<name>` (root only). One helper for both, so a mount
// option (noatime: a build store's reads must not dirty its metadata) is chosen in one place.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export interface MountBtrfsOptions {
  /** Mount with noatime (what the benchmarks use for build and host stores). Default: the kernel's relatime. */
  noatime?: boolean;
}

/** Makes and mounts the file system; returns the mount point. */
export function mountBtrfs(root: string, name: string, size: string, opts: MountBtrfsOptions = {}): string {
  const img = join(root, `${name}.img`);
  const mnt = join(root, name);
  mkdirSync(mnt, { recursive: true });
  execFileSync("truncate", ["-s", size, img]);
  execFileSync("mkfs.btrfs", ["-q", "-f", img], { stdio: "ignore" });
  execFileSync("mount", ["-o", opts.noatime ? "loop,noatime" : "loop", img, mnt]);
  return mnt;
}

/** Unmounts (lazily when still busy); the loop device is released with it. */
export function unmountBtrfs(mnt: string): void {
  spawnSync("umount", [mnt]);
  if (spawnSync("mountpoint", ["-q", mnt]).status === 0) spawnSync("umount", ["-l", mnt]);
}
