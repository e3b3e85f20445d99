// RELIABILITY case 27: a release builder whose trusted key was stolen signs hostile `btrfs send`
// streams. Each class of attack found in issue 12 is tried through every way into the agent (CLI,
// serve, the resident agent, the keel-delta-1 wire) on real btrfs loop images: file capabilities
// and privileged xattrs under look-alike names, modes with bits beyond 0o7777 (bit 63) and a
// setgid root, clone sources through symlinks of the parent or of the stream, writes through a
// symlink. Each must be refused with a code and a message naming the attempt, and leave what an
// admin would check untouched: nothing new under apps/, .staging empty, the root-only file beside
// the store byte-identical, no capability and no setuid/setgid bit anywhere in the store.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReleaseManifest, ReleaseSpecial } from "../protocol";
import { capabilityValue, craftSendStream, streamSubvol, type CraftOp, type CraftParent } from "./craft-send";
import {
  agent,
  buildRelease,
  readManifest,
  receiveArgs,
  resign,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Scratch,
} from "./helpers";
import { WAYS, offer, startResident, type Attempt, type Way } from "./ways-in";

const CAP_SETUID = 7;
let s: Scratch;
let mnt: string;
let store: string;
let trusted: string;
let key: string;
let out: string;
let secret: string;
let secretBytes: Buffer;
let base: ReleaseManifest;
let parent: CraftParent;
let parentDir: string;
const residents = new Set<number>();

beforeAll(() => {
  let src: string;
  ({ s, key, trusted, out, src } = testBench("hostile"));
  const build = s.btrfs("build", 256);
  mnt = s.btrfs("host", 256);
  store = join(mnt, "store");
  mkdirSync(store);
  // A root-only secret beside the store, on the same file system (so a clone could reach it).
  mkdirSync(join(mnt, "secrets"), { mode: 0o700 });
  secret = join(mnt, "secrets", "key");
  secretBytes = Buffer.from(`secret ${Math.random()}\n`);
  writeFileSync(secret, secretBytes, { mode: 0o600 });
  // web 1.0, installed and current: its tree holds a symlink that points upwards, out of the store
  // (apps/web/1.0/m → ../../../../secrets), as a hostile builder's earlier release could.
  writeTree(src, { "bin/app": "1.0\n" });
  symlinkSync("../../../../secrets", join(src, "m"));
  const b = buildRelease(build, src, "web", "1.0", key, out);
  base = readManifest(b.manifest);
  parent = streamSubvol(readFileSync(b.stream));
  expect(agent(receiveArgs(storeArgs(store, trusted), b)).code).toBe(0);
  expect(agent(["activate", ...storeArgs(store, trusted), "web", "1.0"]).code).toBe(0);
  parentDir = join(store, "apps/web/1.0");
  startResident(store, trusted);
});

afterAll(() => {
  for (const pid of residents) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  s?.cleanup();
});

let n = 0;
let probeFs = "";

/**
 * The tree a crafted stream makes, described as `keel-agent build` would: the stream received by
 * a bare `btrfs receive --chroot` (confined, so a write through a symlink to /etc stays in the
 * probe) on a scratch file system. A hostile builder signs exactly this, so the agent's counts and
 * digests cannot be what refuses the attempt. Null when btrfs receive itself fails on it (a clone
 * from a parent the probe does not have).
 */
async function treeOf(streamPath: string): Promise<ReleaseManifest["tree"] | null> {
  probeFs ||= s.btrfs("probe", 160);
  const dir = join(probeFs, `p${++n}`);
  mkdirSync(dir);
  try {
    if (spawnSync("btrfs", ["receive", "--chroot", "-e", "-f", streamPath, dir]).status !== 0) return null;
    const { readSubvolume } = await import("../src/store/subvolume-read");
    const { walkTree } = await import("../src/tree-digest");
    const tree = join(dir, "x");
    // Names the agent refuses to read at all (not UTF-8, btrfs.*) leave the counts only.
    const real = await readSubvolume(tree, "test").catch(() => null);
    if (!real) {
      const w = walkTree(tree, { withDigest: false });
      return { ...base.tree, files: w.files, bytes: w.bytes };
    }
    const w = walkTree(tree, { withDigest: true, meta: true, xattrs: real.allXattrs ?? undefined });
    return { files: w.files, bytes: w.bytes, sha256: w.sha256!, metaSha256: w.metaSha256! };
  } finally {
    spawnSync("btrfs", ["subvolume", "delete", join(dir, "x")]);
  }
}

/** A crafted stream with a manifest signed by the trusted (stolen) key: web 2.0, its tree as the stream makes it. */
async function hostile(
  ops: CraftOp[],
  opts: {
    incremental?: boolean;
    special?: ReleaseSpecial;
    tree?: ReleaseManifest["tree"];
    manifestVersion?: 1;
  } = {},
): Promise<Attempt> {
  const c = craftSendStream("x", ops, opts.incremental ? { parent } : {});
  const name = `h${++n}`;
  const streamPath = join(out, `${name}.stream`);
  writeFileSync(streamPath, c.stream);
  const { special: _sp, parent: _p, ...rest } = base;
  const tree = opts.tree ?? (await treeOf(streamPath)) ?? base.tree;
  const m: ReleaseManifest = { ...rest, version: "2.0", stream: { ...base.stream, uuid: c.uuid }, tree };
  if (opts.special) m.special = opts.special;
  if (opts.incremental) m.parent = { version: "1.0", uuid: base.stream.uuid!, treeSha256: base.tree.sha256 };
  if (opts.manifestVersion === 1) {
    m.manifestVersion = 1;
    const { metaSha256: _m, ...t } = m.tree;
    m.tree = t;
  }
  return {
    manifestPath: resign(m, key, join(out, `${name}.json`), streamPath),
    streamPath,
    deltaBase: { version: "1.0", dir: parentDir },
  };
}

/** The tree of web 1.0 with the secret cloned into `stolen`: what a builder who guessed its size would sign. */
const withStolen = () => ({
  ...base.tree,
  files: base.tree.files + 1,
  bytes: base.tree.bytes + secretBytes.length,
});

/** What an admin checks after a refused attempt. */
function expectNothingChanged(): void {
  expect(storeState(store, "web")).toMatchObject({
    current: "1.0",
    versions: ["1.0"],
    staging: [],
    journal: [],
    metas: ["1.0.json"],
  });
  expect(readFileSync(secret)).toEqual(secretBytes);
  expect(readdirSync(join(mnt, "secrets"))).toEqual(["key"]);
  expect(readdirSync(mnt).sort()).toEqual(["secrets", "store"]);
  expect(spawnSync("getcap", ["-r", store]).stdout.toString().trim()).toBe("");
  expect(execFileSync("find", [store, "-xdev", "-perm", "/6000"]).toString().trim()).toBe("");
}

const file: CraftOp[] = [
  { op: "mkdir", path: "bin" },
  { op: "mkfile", path: "bin/x", data: "#!/bin/sh\nid\n" },
  { op: "chmod", path: "bin/x", mode: 0o755 },
];

interface Case {
  name: string;
  attempt: () => Promise<Attempt>;
  code: string;
  step: string;
  message: RegExp;
}

const CASES: Case[] = [
  {
    name: "class 1: security.capability followed by a NUL byte",
    attempt: () =>
      hostile([
        ...file,
        {
          op: "setxattr",
          path: "bin/x",
          name: Buffer.from("security.capability\0", "latin1"),
          value: capabilityValue([CAP_SETUID]),
        },
      ]),
    code: "SPECIAL_FILES",
    step: "verify",
    message:
      /^the stream sets an extended attribute name with the control byte 0x00 \(security\.capability\\x00\)$/,
  },
  {
    name: "class 1: an undeclared file capability",
    attempt: () =>
      hostile([
        ...file,
        { op: "setxattr", path: "bin/x", name: "security.capability", value: capabilityValue([CAP_SETUID]) },
      ]),
    code: "SPECIAL_FILES",
    step: "verify",
    message:
      /^web 2\.0: the stream sets capability cap_setuid\+pe on bin\/x, which the manifest does not declare$/,
  },
  {
    name: "class 1: a declared capability the request does not allow",
    attempt: () =>
      hostile(
        [
          ...file,
          {
            op: "setxattr",
            path: "bin/x",
            name: "security.capability",
            value: capabilityValue([CAP_SETUID]),
          },
        ],
        { special: { setuid: false, capabilities: true, devices: false } },
      ),
    code: "SPECIAL_FILES",
    step: "verify",
    message: /cap_setuid\+pe on bin\/x, which the manifest declares but this request does not allow/,
  },
  {
    name: "class 1: an undeclared SELinux label and an ACL",
    attempt: () =>
      hostile([
        ...file,
        {
          op: "setxattr",
          path: "bin/x",
          name: "security.selinux",
          value: Buffer.from("system_u:object_r:shadow_t:s0\0"),
        },
        {
          op: "setxattr",
          path: "",
          name: "system.posix_acl_access",
          value: Buffer.from("0200000001000700", "hex"),
        },
      ]),
    code: "SPECIAL_FILES",
    step: "verify",
    message:
      /privileged extended attributes bin\/x \(security\.selinux\), \. \(system\.posix_acl_access\) \(security\.selinux, system\.posix_acl_access not declared\)/,
  },
  {
    name: "class 1: a name outside every allowed namespace, and one that is not UTF-8",
    attempt: () =>
      hostile([
        ...file,
        {
          op: "setxattr",
          path: "bin/x",
          name: Buffer.from("user.\xff\xfe", "latin1"),
          value: Buffer.from("1"),
        },
      ]),
    code: "SPECIAL_FILES",
    step: "verify",
    message: /not valid UTF-8 \(user\.\\xff\\xfe\)/,
  },
  {
    name: "class 1: btrfs.* and trusted.* without a declaration",
    attempt: () =>
      hostile([
        ...file,
        { op: "setxattr", path: "bin/x", name: "btrfs.compression", value: Buffer.from("zstd") },
      ]),
    code: "SPECIAL_FILES",
    step: "verify",
    message: /"btrfs\.compression", outside the namespaces a release may use/,
  },
  {
    name: "class 2: a mode with bit 63 set on the subvolume's root",
    attempt: () => hostile([...file, { op: "chmod", path: "", mode: (1n << 63n) | 0o6755n }]),
    code: "BAD_STREAM",
    step: "verify",
    message: /^the stream sets the impossible mode 0x8000000000000ded on \. \(bits outside 0o7777\)$/,
  },
  {
    name: "class 2: a setgid root directory",
    attempt: () => hostile([...file, { op: "chmod", path: "", mode: 0o2755 }]),
    code: "SPECIAL_FILES",
    step: "verify",
    message: /^web 2\.0: setuid\/setgid files \(\.\), which the manifest does not declare$/,
  },
  {
    name: "class 2: a device node whose mode has a bit beyond the file type",
    attempt: () => hostile([{ op: "mknod", path: "null", mode: (1n << 40n) | 0o020666n, rdev: 0x103 }]),
    code: "BAD_STREAM",
    step: "verify",
    message: /the stream makes null with the impossible mode/,
  },
  {
    name: "class 3: a clone source through a symlink of the parent that leaves the store",
    attempt: () =>
      hostile(
        [
          { op: "mkfile", path: "stolen" },
          { op: "clone", path: "stolen", source: "m/key", from: "parent", len: 0 },
        ],
        { incremental: true, tree: withStolen() },
      ),
    code: "STREAM_ESCAPE",
    step: "verify",
    message:
      /^the clone source parent\/m\/key leaves the parent: m is a symlink \(→ \.\.\/\.\.\/\.\.\/\.\.\/secrets\)$/,
  },
  {
    name: "class 3: a clone source from the subvolume itself through a symlink the stream made",
    attempt: () =>
      hostile([
        { op: "symlink", path: "up", target: "../../../../../secrets" },
        { op: "mkfile", path: "stolen" },
        { op: "clone", path: "stolen", source: "up/key", from: "self", len: 0 },
      ]),
    code: "STREAM_ESCAPE",
    step: "verify",
    message:
      /^the stream clones data through a symlink \(up → \.\.\/\.\.\/\.\.\/\.\.\/\.\.\/secrets, for up\/key\)$/,
  },
  {
    name: "class 3: a clone from the subvolume itself through the parent's symlink",
    attempt: () =>
      hostile(
        [
          { op: "mkfile", path: "stolen" },
          { op: "clone", path: "stolen", source: "m/key", from: "self", len: 0 },
        ],
        { incremental: true, tree: withStolen() },
      ),
    code: "STREAM_ESCAPE",
    step: "verify",
    message:
      /^the stream clones data through a symlink of the parent \(m → \.\.\/\.\.\/\.\.\/\.\.\/secrets, for m\/key\)$/,
  },
  {
    name: "class 3: a write through the parent's symlink",
    attempt: () => hostile([{ op: "mkfile", path: "m/planted", data: "x" }], { incremental: true }),
    code: "STREAM_ESCAPE",
    step: "verify",
    message:
      /^the stream writes through a symlink of the parent \(m → \.\.\/\.\.\/\.\.\/\.\.\/secrets, for m\/planted\)$/,
  },
  {
    name: "class 3: a hard link whose source is reached through the parent's symlink",
    attempt: () => hostile([{ op: "link", path: "copy", existing: "m/key" }], { incremental: true }),
    code: "STREAM_ESCAPE",
    step: "verify",
    message:
      /^the stream links through a symlink of the parent \(m → \.\.\/\.\.\/\.\.\/\.\.\/secrets, for m\/key\)$/,
  },
  {
    name: "class 3: a write through a symlink",
    attempt: () =>
      hostile([
        { op: "mkdir", path: "a" },
        { op: "symlink", path: "a/b", target: "/etc" },
        { op: "mkfile", path: "a/b/passwd", data: "root::0:0::/:/bin/sh\n" },
      ]),
    code: "STREAM_ESCAPE",
    step: "verify",
    message: /^the stream writes through a symlink \(a\/b → \/etc, for a\/b\/passwd\)$/,
  },
];

describe.each(WAYS.map((w) => [w]))("a stolen builder key, via %s", (way: Way) => {
  it.each(CASES.map((c) => [c.name, c]))("refuses %s", async (_name, c) => {
    const r = await offer(way, store, trusted, await (c as Case).attempt(), s.root, residents);
    expect(r.error, JSON.stringify(r)).toBeDefined();
    expect(r.error).toMatchObject({ code: (c as Case).code, step: (c as Case).step });
    expect(r.error!.message).toMatch((c as Case).message);
    expectNothingChanged();
  });
});

describe("checked again on the received tree, before the version is visible", () => {
  it("a signed digest that leaves out an xattr the stream sets is refused at step check (TREE_MISMATCH)", async () => {
    const ops: CraftOp[] = [
      ...file,
      { op: "setxattr", path: "bin/x", name: "user.origin", value: Buffer.from("builder") },
    ];
    const honest = (await treeOf((await hostile(ops)).streamPath))!;
    const plain = (await treeOf((await hostile(file)).streamPath))!;
    // The same stream, signed with the digest of the tree without the xattr.
    const a = await hostile(ops, { tree: { ...honest, metaSha256: plain.metaSha256 } });
    for (const way of WAYS) {
      const r = await offer(way, store, trusted, a, s.root, residents);
      expect(r.error, way).toMatchObject({ code: "TREE_MISMATCH", step: "check" });
      expect(r.error!.message).toMatch(/extended attributes/);
      expectNothingChanged();
    }
  });

  it("a version 1 manifest is taken only for a tree without xattrs; otherwise it says to rebuild", async () => {
    const ops: CraftOp[] = [
      ...file,
      { op: "setxattr", path: "bin/x", name: "user.origin", value: Buffer.from("builder") },
    ];
    const r = await offer(
      "cli",
      store,
      trusted,
      await hostile(ops, { manifestVersion: 1 }),
      s.root,
      residents,
    );
    expect(r.error).toMatchObject({ code: "MANIFEST_TOO_OLD", step: "check" });
    expect(r.error!.message).toMatch(/version 1 manifest.*rebuild it with a current keel-agent/);
    expectNothingChanged();
  });

  it("a declared and allowed capability and a user xattr install, exactly as signed, and verify agrees", async () => {
    const ops: CraftOp[] = [
      ...file,
      { op: "setxattr", path: "bin/x", name: "user.origin", value: Buffer.from("builder") },
      { op: "setxattr", path: "bin/x", name: "security.capability", value: capabilityValue([10]) },
    ];
    const a = await hostile(ops, { special: { setuid: false, capabilities: true, devices: false } });
    const r = await offer("cli", store, trusted, { ...a, allowSpecial: true }, s.root, residents);
    expect(r.result, JSON.stringify(r)).toMatchObject({
      version: "2.0",
      special: { capabilities: ["bin/x (cap_net_bind_service+pe)"] },
    });
    expect(spawnSync("getcap", [join(store, "apps/web/2.0/bin/x")]).stdout.toString()).toMatch(
      /cap_net_bind_service=ep/,
    );
    expect(agent(["verify", ...storeArgs(store, trusted), "web", "2.0"]).json.versions).toHaveLength(1);
    expect(agent(["remove", ...storeArgs(store, trusted), "web", "2.0"]).json.removed).toBe(true);
    expect(existsSync(join(store, "apps/web/2.0"))).toBe(false);
    expectNothingChanged();
  });
});

describe("errors that name the attempt", () => {
  it("a stream declared at 1 TiB is refused before any byte, saying by how much it exceeds the free space (no gc advice)", async () => {
    const c = craftSendStream("x", file);
    const streamPath = join(out, "tib.stream");
    writeFileSync(streamPath, c.stream);
    const chunkSize = 64 * 1024 * 1024;
    const bytes = 2 ** 40;
    const { special: _sp, parent: _p, ...rest } = base;
    const m: ReleaseManifest = {
      ...rest,
      version: "2.0",
      stream: {
        ...base.stream,
        uuid: c.uuid,
        bytes,
        chunkSize,
        chunks: Array.from({ length: bytes / chunkSize }, () => "0".repeat(64)),
      },
    };
    const a: Attempt = {
      manifestPath: resign(m, key, join(out, "tib.json")),
      streamPath,
      deltaBase: { version: "1.0", dir: parentDir },
    };
    for (const way of ["cli", "serve", "resident"] as const) {
      const r = await offer(way, store, trusted, a, s.root, residents);
      expect(r.error, way).toMatchObject({ code: "DISK_FULL", step: "receive" });
      expect(r.error!.message).toMatch(
        /^web 2\.0 declares a stream of 1099511627776 bytes \(1024\.0 GiB\), which exceeds the store's free space of \d+ bytes by \d+ bytes \(\d+\.\d GiB\); it is larger than the whole store/,
      );
      expect(r.error!.message).not.toMatch(/gc/);
      expectNothingChanged();
    }
  });

  it("a command claiming 4 GiB is called an impossible length, not a truncated stream", async () => {
    const c = craftSendStream("x", file, { end: false });
    const huge = Buffer.alloc(10);
    huge.writeUInt32LE(0xfffffff0, 0);
    huge.writeUInt16LE(15, 4);
    const streamPath = join(out, "huge.stream");
    writeFileSync(streamPath, Buffer.concat([c.stream, huge]));
    const { special: _sp, parent: _p, ...rest } = base;
    const m: ReleaseManifest = { ...rest, version: "2.0", stream: { ...base.stream, uuid: c.uuid } };
    const r = await offer(
      "cli",
      store,
      trusted,
      {
        manifestPath: resign(m, key, join(out, "huge.json"), streamPath),
        streamPath,
        deltaBase: { version: "1.0", dir: parentDir },
      },
      s.root,
      residents,
    );
    expect(r.error).toMatchObject({ code: "BAD_STREAM", step: "verify" });
    expect(r.error!.message).toBe(
      "a stream command claims 4294967280 bytes, an impossible length for a btrfs send command (at most 65536)",
    );
    expectNothingChanged();
  });
});
