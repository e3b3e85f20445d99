// The build store `npm start` provisions: on a data directory that is not on btrfs (the machine's
// own /tmp here), as root, a sparse btrfs image is mounted at <data dir>/subvolumes, building is
// then on, and stop unmounts it. Real loop mount, real mkfs.btrfs.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getBuildSupport } from "@/server/services/releases/get-build-support";
import { isOnBtrfs } from "@/server/services/releases/btrfs";
import { ensureBuildStore } from "./build-store";

const dataDir = mkdtempSync(join(tmpdir(), "keel-build-store-"));
const isMounted = (p: string) => spawnSync("mountpoint", ["-q", p]).status === 0;

afterAll(() => {
  if (isMounted(join(dataDir, "subvolumes"))) spawnSync("umount", ["-l", join(dataDir, "subvolumes")]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("build store", () => {
  it("mounts a btrfs image where the data dir is not on btrfs, building turns on, stop unmounts, a restart reuses it", async () => {
    expect(await isOnBtrfs(dataDir)).toBe(false);
    expect((await getBuildSupport({ dataDir })).canBuild).toBe(false);
    const logs: string[] = [];
    const store = await ensureBuildStore({ dataDir, sizeGiB: 2, log: (l) => logs.push(l) });
    expect(store.mounted).toBe(true);
    expect(logs.join("\n")).toMatch(
      /build store: .*build-store\.img \(btrfs, 2 GiB sparse\) mounted on .*subvolumes/,
    );
    const support = await getBuildSupport({ dataDir });
    expect(support).toMatchObject({ canBuild: true, reason: null });
    // noatime: reading a tree for a delta must not rewrite its metadata.
    expect(
      execFileSync("findmnt", ["-no", "OPTIONS", join(dataDir, "subvolumes")], { encoding: "utf8" }),
    ).toMatch(/noatime/);
    // Sparse: the 2 GiB image takes a few MiB on disk.
    expect(statSync(join(dataDir, "build-store.img")).blocks * 512).toBeLessThan(64 * 2 ** 20);
    execFileSync("btrfs", ["subvolume", "create", join(dataDir, "subvolumes", "kept")], { stdio: "ignore" });
    await store.close();
    expect(isMounted(join(dataDir, "subvolumes"))).toBe(false);
    expect((await getBuildSupport({ dataDir })).canBuild).toBe(false);

    const again = await ensureBuildStore({ dataDir, sizeGiB: 2, log: () => {} });
    expect(again.mounted).toBe(true);
    expect(statSync(join(dataDir, "subvolumes", "kept")).isDirectory()).toBe(true); // same file system, not a new one
    await again.close();
  });

  it("says why building is off when it may not mount (KEEL_BUILD_STORE_GIB=0)", async () => {
    const logs: string[] = [];
    const store = await ensureBuildStore({ dataDir, sizeGiB: 0, log: (l) => logs.push(l) });
    expect(store.mounted).toBe(false);
    expect(logs).toEqual([
      expect.stringMatching(
        /building releases on the console is off: .* KEEL_BUILD_STORE_GIB=0; pushing releases built elsewhere works/,
      ),
    ]);
  });
});
