// Hand-crafted `btrfs send` v1 streams for the escape tests (RELIABILITY.md case 7), with correct
// CRC-32C so that btrfs receive itself would accept them — only the agent's checks stand in the way.
import { randomBytes } from "node:crypto";
import { crc32c } from "../protocol/delta/format";
import { A, C } from "../src/store/send-command";

type Attr = [number, Buffer];

const u64 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const uuidBytes = (u: string) => Buffer.from(u.replace(/-/g, ""), "hex");
const s = (v: string) => Buffer.from(v, "utf8");

/** One send command, framed with its length and CRC-32C (an attribute's length field is its value's). */
export function cmd(type: number, attrs: Attr[]): Buffer {
  const payload = Buffer.concat(
    attrs.map(([t, v]) => {
      const h = Buffer.alloc(4);
      h.writeUInt16LE(t, 0);
      h.writeUInt16LE(v.length, 2);
      return Buffer.concat([h, v]);
    }),
  );
  const head = Buffer.alloc(10);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt16LE(type, 4);
  const whole = Buffer.concat([head, payload]);
  whole.writeUInt32LE(crc32c(whole), 6);
  return whole;
}

export type CraftOp =
  | { op: "mkfile"; path: string; data?: string }
  | { op: "mkdir"; path: string }
  | { op: "symlink"; path: string; target: string }
  | { op: "link"; path: string; existing: string }
  | { op: "rename"; from: string; to: string }
  | { op: "chmod"; path: string; mode: number | bigint }
  /** name as raw bytes (a Buffer), so tests can put a NUL or invalid UTF-8 in it. */
  | { op: "setxattr"; path: string; name: string | Buffer; value: Buffer }
  | { op: "mknod"; path: string; mode: number | bigint; rdev: number }
  /** A clone of len bytes from `source` in subvolume `from` ("self" or "parent"). */
  | { op: "clone"; path: string; source: string; from: "self" | "parent"; len: number };

/** A file capability value (vfs_cap_data revision 2) granting the given capability bits, effective. */
export function capabilityValue(bits: number[]): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0);
  let lo = 0;
  for (const bit of bits) lo |= 1 << bit;
  b.writeUInt32LE(lo >>> 0, 4);
  return b;
}

export interface CraftParent {
  uuid: string;
  ctransid: bigint;
}

/** The subvolume UUID and ctransid a real `btrfs send` stream starts with (its SUBVOL command). */
export function streamSubvol(stream: Buffer): CraftParent {
  let p = 17 + 10;
  const end = 17 + 10 + stream.readUInt32LE(17);
  let uuid = "";
  let ctransid = 0n;
  while (p < end) {
    const t = stream.readUInt16LE(p);
    const l = stream.readUInt16LE(p + 2);
    const v = stream.subarray(p + 4, p + 4 + l);
    if (t === A.UUID) {
      const h = v.toString("hex");
      uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    if (t === A.CTRANSID) ctransid = v.readBigUInt64LE(0);
    p += 4 + l;
  }
  return { uuid, ctransid };
}

export function craftSendStream(
  name: string,
  ops: CraftOp[],
  opts: { end?: boolean; parent?: CraftParent } = {},
): { stream: Buffer; uuid: string } {
  const ownUuid = randomBytes(16);
  const h = ownUuid.toString("hex");
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  const parts: Buffer[] = [Buffer.from("btrfs-stream\0", "latin1"), Buffer.from([1, 0, 0, 0])];
  if (opts.parent) {
    parts.push(
      cmd(C.SNAPSHOT, [
        [A.PATH, s(name)],
        [A.UUID, ownUuid],
        [A.CTRANSID, u64(9)],
        [A.CLONE_UUID, uuidBytes(opts.parent.uuid)],
        [A.CLONE_CTRANSID, u64(opts.parent.ctransid)],
      ]),
    );
  } else {
    parts.push(
      cmd(C.SUBVOL, [
        [A.PATH, s(name)],
        [A.UUID, ownUuid],
        [A.CTRANSID, u64(7)],
      ]),
    );
  }
  let ino = 257;
  for (const o of ops) {
    switch (o.op) {
      case "mkfile":
        parts.push(
          cmd(C.MKFILE, [
            [A.PATH, s(o.path)],
            [A.INO, u64(ino++)],
          ]),
        );
        if (o.data)
          parts.push(
            cmd(C.WRITE, [
              [A.PATH, s(o.path)],
              [A.FILE_OFFSET, u64(0)],
              [A.DATA, s(o.data)],
            ]),
          );
        break;
      case "mkdir":
        parts.push(
          cmd(C.MKDIR, [
            [A.PATH, s(o.path)],
            [A.INO, u64(ino++)],
          ]),
        );
        break;
      case "symlink":
        parts.push(
          cmd(C.SYMLINK, [
            [A.PATH, s(o.path)],
            [A.INO, u64(ino++)],
            [A.PATH_LINK, s(o.target)],
          ]),
        );
        break;
      case "link":
        parts.push(
          cmd(C.LINK, [
            [A.PATH, s(o.path)],
            [A.PATH_LINK, s(o.existing)],
          ]),
        );
        break;
      case "rename":
        parts.push(
          cmd(C.RENAME, [
            [A.PATH, s(o.from)],
            [A.PATH_TO, s(o.to)],
          ]),
        );
        break;
      case "chmod":
        parts.push(
          cmd(C.CHMOD, [
            [A.PATH, s(o.path)],
            [A.MODE, u64(o.mode)],
          ]),
        );
        break;
      case "setxattr":
        parts.push(
          cmd(C.SET_XATTR, [
            [A.PATH, s(o.path)],
            [A.XATTR_NAME, typeof o.name === "string" ? s(o.name) : o.name],
            [A.XATTR_DATA, o.value],
          ]),
        );
        break;
      case "mknod":
        parts.push(
          cmd(C.MKNOD, [
            [A.PATH, s(o.path)],
            [A.INO, u64(ino++)],
            [A.MODE, u64(o.mode)],
            [A.RDEV, u64(o.rdev)],
          ]),
        );
        break;
      case "clone": {
        const from = o.from === "self" ? { uuid, ctransid: 7n } : opts.parent!;
        parts.push(
          cmd(C.CLONE, [
            [A.PATH, s(o.path)],
            [A.FILE_OFFSET, u64(0)],
            [A.CLONE_LEN, u64(o.len)],
            [A.CLONE_UUID, uuidBytes(from.uuid)],
            [A.CLONE_CTRANSID, u64(o.from === "self" && opts.parent ? 9n : from.ctransid)],
            [A.CLONE_PATH, s(o.source)],
            [A.CLONE_OFFSET, u64(0)],
          ]),
        );
        break;
      }
    }
  }
  if (opts.end !== false) parts.push(cmd(C.END, []));
  return { stream: Buffer.concat(parts), uuid };
}
