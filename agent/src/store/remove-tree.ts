// Deleting trees that may contain btrfs subvolumes (a received release, a half-received one in
// .staging). Subvolumes are deleted with `btrfs subvolume delete` (works on read-only ones too);
// everything else with rm. Symlinks inside received trees are never followed.
import { lstatSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "./fs-util";

/** btrfs gives every subvolume root inode number 256 (BTRFS_FIRST_FREE_OBJECTID). */
function isSubvolumeRoot(path: string, isBtrfs: boolean): boolean {
  if (!isBtrfs) return false;
  const st = lstatSync(path);
  return st.isDirectory() && st.ino === 256;
}

export async function deleteSubvolume(path: string): Promise<void> {
  await runChecked(["btrfs", "subvolume", "delete", "--", path]);
}

/** Removes path and everything below it; a missing path is fine. */
export async function removeTree(path: string, isBtrfs: boolean): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (!st.isDirectory()) {
    rmSync(path, { force: true });
    return;
  }
  if (isSubvolumeRoot(path, isBtrfs)) {
    await deleteSubvolume(path);
    return;
  }
  for (const name of readdirSync(path)) await removeTree(join(path, name), isBtrfs);
  rmdirSync(path);
}
