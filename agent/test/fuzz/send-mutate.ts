// Mutating a valid `btrfs send` v1 stream the way a hostile builder could: at the level of
// commands and their attributes (bit flips, field changes, inserted/removed/duplicated commands,
// duplicated attributes, length fields, xattr names, modes, paths, clone sources and offsets),
// then re-framed with correct lengths and CRC-32C so that `btrfs receive` itself takes it.
import { A, C } from "../../src/store/send-command";
import { cmd } from "../craft-send";
import type { Rng } from "./rng";

export interface Cmd {
  type: number;
  attrs: [number, Buffer][];
}

const HEADER = 17;

export function parseSend(buf: Buffer): Cmd[] {
  const cmds: Cmd[] = [];
  let off = HEADER;
  while (off + 10 <= buf.length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    const payload = buf.subarray(off + 10, off + 10 + len);
    const attrs: [number, Buffer][] = [];
    for (let p = 0; p + 4 <= payload.length;) {
      const t = payload.readUInt16LE(p);
      const l = payload.readUInt16LE(p + 2);
      attrs.push([t, Buffer.from(payload.subarray(p + 4, p + 4 + l))]);
      p += 4 + l;
    }
    cmds.push({ type, attrs });
    off += 10 + len;
  }
  return cmds;
}

export function encodeSend(header: Buffer, cmds: Cmd[]): Buffer {
  // A value longer than an attribute's u16 length field can say is cut to what it can say.
  const framed = cmds.map((c) =>
    cmd(
      c.type,
      c.attrs.map(([t, v]): [number, Buffer] => [t, v.subarray(0, 0xffff)]),
    ),
  );
  return Buffer.concat([header.subarray(0, HEADER), ...framed]);
}

const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, n));
  return b;
};
const str = (s: string) => Buffer.from(s, "utf8");

/** vfs_cap_data revision 2, effective, permitted = cap_setuid (7). */
export const CAP_SETUID = (() => {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0);
  b.writeUInt32LE(1 << 7, 4);
  return b;
})();

/** Paths worth trying: the parent's symlink out of the tree, escapes, NUL and control bytes. */
export const PATHS = [
  "",
  "up/secret",
  "up",
  "up/sub/file",
  "..",
  "../x",
  "/etc/passwd",
  "a\0b",
  "bin/app\0x",
  "lib/data",
  "bin/app",
  "etc/conf",
  "s/x",
  "new",
  "x/../../y",
  "a\nb",
  "a".repeat(300),
];
/** High bits above the 53 a JavaScript number holds exactly: 0o6755 and 0o2000 round away from the setuid/setgid bits. */
const HIDDEN = [(1n << 63n) | 0o6755n, (1n << 63n) | 0o2000n, (1n << 63n) | 0o7777n, (1n << 62n) | 0o6755n];
const MODES = [
  ...HIDDEN,
  0o4755n,
  0o2755n,
  0o6777n,
  0o1777n,
  (1n << 63n) | 0o4755n,
  (1n << 32n) | 0o2755n,
  0o020644n,
  0o060644n,
  0o104755n,
  0xffffffffffffffffn,
  0o644n,
  0o140755n,
  0o010644n,
];
const XNAMES = [
  "security.capability",
  "security.capability\0",
  "security.capability\0user.x",
  "trusted.overlay.opaque",
  "system.posix_acl_access",
  "security.selinux",
  "user.x",
  "user.\n",
  "",
  "security.ima",
];
const U64S = [0n, 1n, 4095n, 4096n, 8192n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n, 1n << 32n];
const TARGETS = ["/etc", "../../../../sentinel", "/", "up", "../../../../sentinel/secret"];

export interface SendContext {
  /** The stream's own subvolume UUID, and its parent's (incremental) with its ctransid. */
  selfUuid: Buffer;
  parentUuid: Buffer | null;
  parentCtransid: Buffer | null;
  /** Paths of regular files in the tree (the parent's and the stream's). */
  files: string[];
}

export function contextOf(cmds: Cmd[], parentFiles: string[]): SendContext {
  const first = cmds[0]!;
  const get = (t: number) => first.attrs.find(([a]) => a === t)?.[1] ?? null;
  const files = new Set(parentFiles);
  for (const c of cmds)
    if (c.type === C.WRITE) files.add(c.attrs.find(([a]) => a === A.PATH)?.[1].toString("utf8") ?? "");
  files.delete("");
  return {
    selfUuid: get(A.UUID) ?? Buffer.alloc(16),
    parentUuid: first.type === C.SNAPSHOT ? get(A.CLONE_UUID) : null,
    parentCtransid: get(A.CLONE_CTRANSID),
    files: [...files],
  };
}

function attrValue(rng: Rng, type: number, ctx: SendContext, old: Buffer): Buffer {
  switch (type) {
    case A.PATH:
    case A.PATH_TO:
    case A.PATH_LINK:
    case A.CLONE_PATH:
      if (rng.chance(0.3)) return str(rng.pick(ctx.files));
      if (rng.chance(0.2) && old.length) {
        const b = Buffer.from(old);
        b[rng.int(b.length)] = rng.pick([0, 0x2f, 0x2e, 0x0a, 0xff]);
        return b;
      }
      return str(rng.pick(PATHS));
    case A.MODE:
      return u64(rng.pick(MODES));
    case A.UID:
    case A.GID:
      return u64(rng.pick([0n, 1000n, 0xffffffffn, 1n << 32n, 1n << 63n]));
    case A.RDEV:
      return u64(rng.pick([0x103n, 0n, 1n << 63n]));
    case A.XATTR_NAME:
      return str(rng.pick(XNAMES));
    case A.XATTR_DATA:
      return rng.chance(0.7) ? CAP_SETUID : rng.bytes(rng.int(40));
    case A.UUID:
    case A.CLONE_UUID:
      return rng.pick([ctx.selfUuid, ctx.parentUuid ?? ctx.selfUuid, rng.bytes(16)]);
    case A.DATA:
      return rng.bytes(1 + rng.int(5000));
    case A.CTIME:
    case A.MTIME:
    case A.ATIME:
    case 12:
      return rng.chance(0.5) ? Buffer.alloc(12, 0xff) : rng.bytes(12); // u64 seconds + u32 ns
    default:
      return rng.chance(0.8) ? u64(rng.pick(U64S)) : u64(BigInt(rng.u32()) << BigInt(rng.int(33)));
  }
}

/** A command a hostile builder could add, with attributes aimed at the classes of case 27. */
function template(rng: Rng, ctx: SendContext): Cmd[] {
  const file = () => str(ctx.files.length ? rng.pick(ctx.files) : "new");
  const pathOrRoot = () => (rng.chance(0.3) ? str("") : file());
  const ino = u64(BigInt(300 + rng.int(100)));
  switch (rng.int(11)) {
    case 0:
      return [
        {
          type: C.SET_XATTR,
          attrs: [
            [A.PATH, pathOrRoot()],
            [A.XATTR_NAME, str(rng.pick(XNAMES))],
            [A.XATTR_DATA, CAP_SETUID],
          ],
        },
      ];
    case 1:
      return [
        {
          type: C.CHMOD,
          attrs: [
            [A.PATH, pathOrRoot()],
            [A.MODE, u64(rng.pick(rng.chance(0.5) ? HIDDEN : MODES))],
          ],
        },
      ];
    case 2:
      return [
        {
          type: C.CHOWN,
          attrs: [
            [A.PATH, pathOrRoot()],
            [A.UID, u64(rng.pick([0n, 0xffffffffn, 1n << 32n]))],
            [A.GID, u64(0n)],
          ],
        },
      ];
    case 3:
      return [
        {
          type: C.MKNOD,
          attrs: [
            [A.PATH, str("dev0")],
            [A.INO, ino],
            [A.MODE, u64(rng.pick(MODES))],
            [A.RDEV, u64(0x103n)],
          ],
        },
      ];
    case 4:
      return [
        {
          type: C.SYMLINK,
          attrs: [
            [A.PATH, str("s")],
            [A.INO, ino],
            [A.PATH_LINK, str(rng.pick(TARGETS))],
          ],
        },
        rng.chance(0.5)
          ? {
              type: C.MKFILE,
              attrs: [
                [A.PATH, str("s/pwned")],
                [A.INO, u64(450n)],
              ],
            }
          : {
              type: C.WRITE,
              attrs: [
                [A.PATH, str(rng.pick(["s/x", "s", "s/secret"]))],
                [A.FILE_OFFSET, u64(0n)],
                [A.DATA, str("pwned\n")],
              ],
            },
      ];
    case 5:
      return [
        {
          type: C.LINK,
          attrs: [
            [A.PATH, str("hl")],
            [A.PATH_LINK, str(rng.chance(0.5) ? rng.pick(PATHS) : rng.pick(ctx.files))],
          ],
        },
      ];
    case 6:
      return [
        {
          type: C.RENAME,
          attrs: [
            [A.PATH, file()],
            [A.PATH_TO, str(rng.pick(PATHS))],
          ],
        },
      ];
    case 7:
    case 8:
      return [
        {
          type: C.CLONE,
          attrs: [
            [A.PATH, file()],
            [A.FILE_OFFSET, u64(rng.pick([0n, 4096n]))],
            [A.CLONE_LEN, u64(rng.pick([4096n, 8192n, 1n << 63n]))],
            [A.CLONE_UUID, rng.chance(0.8) && ctx.parentUuid ? ctx.parentUuid : ctx.selfUuid],
            [A.CLONE_CTRANSID, ctx.parentCtransid ?? u64(7n)],
            [A.CLONE_PATH, str(rng.pick(["up/secret", "up/sub/file", "up/../secret", ...ctx.files]))],
            [A.CLONE_OFFSET, u64(rng.pick([0n, 4096n, 1n << 63n]))],
          ],
        },
      ];
    case 9:
      return [
        {
          type: C.WRITE,
          attrs: [
            [A.PATH, str(rng.pick(["up/secret", "up/x", ...ctx.files]))],
            [A.FILE_OFFSET, u64(rng.pick(U64S))],
            [A.DATA, str("pwned\n")],
          ],
        },
      ];
    default:
      return [
        {
          type: C.TRUNCATE,
          attrs: [
            [A.PATH, file()],
            [A.SIZE, u64(rng.pick(U64S))],
          ],
        },
      ];
  }
}

/** Applies 1–3 mutations; returns the new stream and what was done (for the report). */
export function mutateSend(
  rng: Rng,
  stream: Buffer,
  parentFiles: string[],
): { stream: Buffer; ops: string[] } {
  const header = stream.subarray(0, HEADER);
  const cmds = parseSend(stream);
  const ctx = contextOf(cmds, parentFiles);
  const ops: string[] = [];
  const body = () => 1 + rng.int(Math.max(1, cmds.length - 2)); // a command between SUBVOL and END
  let raw: ((b: Buffer) => void) | null = null;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const k = rng.int(100);
    if (k < 30) {
      const at = body();
      const t = template(rng, ctx);
      cmds.splice(at, 0, ...t);
      ops.push(`insert ${t.map((c) => c.type).join("+")} at ${at}`);
    } else if (k < 55) {
      const c = cmds[body()];
      if (!c) continue;
      if (!c.attrs.length) continue;
      const i = rng.int(c.attrs.length);
      const [t, old] = c.attrs[i]!;
      c.attrs[i] = [t, attrValue(rng, t, ctx, old)];
      ops.push(`set attr ${t} of cmd ${c.type}`);
    } else if (k < 63) {
      const c = cmds[body()];
      if (!c) continue;
      const t = c.attrs.length ? rng.pick(c.attrs)[0] : A.MODE;
      c.attrs.push([t, attrValue(rng, t, ctx, Buffer.alloc(0))]);
      ops.push(`duplicate attr ${t} of cmd ${c.type}`);
    } else if (k < 70) {
      const at = body();
      cmds.splice(at, 1);
      ops.push(`remove cmd ${at}`);
    } else if (k < 76) {
      const at = body();
      if (!cmds[at]) continue;
      cmds.splice(at, 0, {
        type: cmds[at]!.type,
        attrs: cmds[at]!.attrs.map(([t, v]) => [t, Buffer.from(v)] as [number, Buffer]),
      });
      ops.push(`duplicate cmd ${at}`);
    } else if (k < 81) {
      const at = body();
      if (at + 1 < cmds.length - 1) [cmds[at], cmds[at + 1]] = [cmds[at + 1]!, cmds[at]!];
      ops.push(`swap cmds ${at}`);
    } else if (k < 85) {
      const c = cmds[body()];
      if (!c) continue;
      c.type = 1 + rng.int(25);
      ops.push(`cmd type ${c.type}`);
    } else if (k < 94) {
      const c = cmds[body()];
      if (!c) continue;
      const a = c.attrs.length ? rng.pick(c.attrs)[1] : null;
      if (a && a.length) a[rng.int(a.length)]! ^= 1 << rng.int(8);
      ops.push(`bit flip in cmd ${c.type}`);
    } else if (k < 97) {
      const at = rng.int(cmds.length + 1);
      cmds.splice(at);
      ops.push(`cut at cmd ${at}`);
    } else {
      const pos = rng.int(stream.length);
      raw = (b) => {
        if (pos < b.length) b[pos]! ^= 1 << rng.int(8);
      };
      ops.push(`raw bit flip at ${pos} (CRC not fixed)`);
    }
  }
  const out = encodeSend(header, cmds);
  raw?.(out);
  return { stream: out, ops };
}
