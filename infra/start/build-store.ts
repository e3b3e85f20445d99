// The console's build store: releases are built and kept as btrfs subvolumes under
// <data dir>/subvolumes. When the data directory is not on btrfs and `npm start` runs as root,
// a sparse btrfs image in the data directory is mounted there (noatime, so that reading a tree
// for a delta does not rewrite its metadata and grow the next delta), and unmounted at stop.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildStoreOnBtrfs } from "@/server/services/releases/btrfs";

const run = promisify(execFile);

export type BuildStore = { mounted: boolean; close(): Promise<void> };

const nothing: BuildStore = { mounted: false, close: async () => {} };

export async function ensureBuildStore(opts: {
  dataDir: string;
  sizeGiB: number;
  log: (line: string) => void;
}): Promise<BuildStore> {
  const { dataDir, sizeGiB, log } = opts;
  const root = join(dataDir, "subvolumes");
  if (await buildStoreOnBtrfs(dataDir)) return nothing;
  const off = (why: string) => {
    log(
      `building releases on the console is off: ${root} is not on btrfs and ${why}; pushing releases built elsewhere works (docs/releases.md)`,
    );
    return nothing;
  };
  if (sizeGiB === 0) return off("KEEL_BUILD_STORE_GIB=0");
  if (process.getuid?.() !== 0) return off("mounting a btrfs image there needs root");
  const image = join(dataDir, "build-store.img");
  try {
    if (!existsSync(image)) {
      const fd = openSync(image, "wx", 0o600);
      try {
        ftruncateSync(fd, sizeGiB * 2 ** 30); // sparse: takes disk space only as releases fill it
      } finally {
        closeSync(fd);
      }
      await run("mkfs.btrfs", ["-q", image]);
    }
    mkdirSync(root, { recursive: true });
    await run("mount", ["-o", "loop,noatime", image, root]);
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    return off(
      err.code === "ENOENT"
        ? "btrfs-progs is not installed (apt-get install btrfs-progs)"
        : `mounting ${image} failed: ${(err.stderr || err.message).trim()}`,
    );
  }
  log(`build store: ${image} (btrfs, ${sizeGiB} GiB sparse) mounted on ${root}`);
  return {
    mounted: true,
    async close() {
      await run("umount", [root]).catch((e: Error) =>
        log(`unmounting the build store ${root}: ${e.message}`),
      );
    },
  };
}
