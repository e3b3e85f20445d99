// Which backend a store gets: btrfs when the store directory is on btrfs, the plain-directory
// fallback otherwise. Also the file system's type name and size for `facts`.
import { statfsSync } from "node:fs";

const FS_MAGIC: Record<number, string> = {
  0x9123683e: "btrfs",
  0xef53: "ext4",
  0x01021994: "tmpfs",
  0x58465342: "xfs",
  0x794c7630: "overlay",
  0x6969: "nfs",
  0x2fc12fc1: "zfs",
  0xf2f52010: "f2fs",
};

export interface FsInfo {
  fsType: string;
  isBtrfs: boolean;
  sizeBytes: number;
  freeBytes: number;
}

export function fsInfo(path: string): FsInfo {
  const s = statfsSync(path);
  const type = Number(s.type) >>> 0;
  const fsType = FS_MAGIC[type] ?? `0x${type.toString(16)}`;
  return {
    fsType,
    isBtrfs: fsType === "btrfs",
    sizeBytes: Number(s.blocks) * Number(s.bsize),
    freeBytes: Number(s.bavail) * Number(s.bsize),
  };
}
