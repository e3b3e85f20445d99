// RELIABILITY.md cases 5–11 on a real btrfs store: bad streams, bad signatures, swapped files,
// replays, wrong parents, special files, escape attempts, disk full, bad names. Each must be
// refused with a clear error, leave nothing in .staging and leave the active version untouched.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { craftSendStream, type CraftOp } from "./craft-send";
import {
  agent,
  buildRelease,
  makeKey,
  randomData,
  readManifest,
  receiveArgs,
  resign,
  startPaused,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Built,
  type Scratch,
} from "./helpers";

let s: Scratch;
let host: string;
let trusted: string;
let key: string;
let out: string;
let outsideCanary: string;
const rel: Record<string, Built> = {};
const other: Record<string, Built> = {};

beforeAll(() => {
  let src: string;
  ({ s, key, trusted, out, src } = testBench("bad"));
  const buildStore = s.btrfs("build", 512);
  const otherStore = s.btrfs("build2", 256);
  host = s.btrfs("host", 256);
  writeTree(src, { "bin/app": "v1.9\n", "data/blob": randomData(2 * 1024 * 1024) });
  rel["1.9"] = buildRelease(buildStore, src, "web", "1.9", key, out);
  writeTree(src, { "bin/app": "v1.10\n" });
  rel["1.10"] = buildRelease(buildStore, src, "web", "1.10", key, out, "1.9");
  // Another build of "1.9" with different contents: a host holding it has the wrong parent.
  const src2 = s.dir("src2");
  writeTree(src2, { "bin/app": "another 1.9\n" });
  other["1.9"] = buildRelease(otherStore, src2, "web", "1.9", key, s.dir("out2"));
  // Special files: setuid binary and a device node.
  const src3 = s.dir("src3");
  writeTree(src3, { "bin/su": "not really su\n" });
  chmodSync(join(src3, "bin/su"), 0o4755);
  execFileSync("mknod", [join(src3, "null"), "c", "1", "3"]);
  rel.special = buildRelease(buildStore, src3, "tool", "1.0", key, out);
  // A release of several 4 MiB chunks.
  const src4 = s.dir("src4");
  writeTree(src4, { blob: randomData(14 * 1024 * 1024) });
  rel.bulk = buildRelease(buildStore, src4, "bulk", "1.0", key, out);
  outsideCanary = s.dir("canary");
  writeFileSync(join(outsideCanary, "file"), "canary\n");
  // The host runs 1.9.
  expect(agent(receiveArgs(S(), rel["1.9"]!)).code).toBe(0);
  expect(agent(["activate", ...S(), "web", "1.9"]).code).toBe(0);
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
const receive = (manifest: string, stream: string, extra: string[] = []) =>
  agent(["receive", ...S(), "--manifest", manifest, "--stream", stream, ...extra]);

function expectUntouched(): void {
  const st = storeState(host, "web");
  expect(st).toMatchObject({ current: "1.9", staging: [], journal: [] });
  expect(readFileSync(join(host, "apps/web/current/bin/app"), "utf8")).toBe("v1.9\n");
  expect(readFileSync(join(outsideCanary, "file"), "utf8")).toBe("canary\n");
  expect(readdirSync(outsideCanary)).toEqual(["file"]);
  expect(readdirSync(host).sort()).toEqual([".journal", ".staging", "apps"]);
}

function expectRefused(r: ReturnType<typeof agent>, code: string, message?: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.json.error?.code, r.stdout).toBe(code);
  expect(typeof r.json.error.step).toBe("string");
  if (message) expect(r.json.error.message).toMatch(message);
  expectUntouched();
}

function variant(name: string, bytes: Buffer): string {
  const p = join(out, name);
  writeFileSync(p, bytes);
  return p;
}

describe("bad streams (case 6)", () => {
  const full = () => readFileSync(rel["1.10"]!.stream);

  it("refuses a truncated stream", () => {
    const b = full();
    expectRefused(
      receive(rel["1.10"]!.manifest, variant("trunc", b.subarray(0, b.length - 4096))),
      "DIGEST_MISMATCH",
      /truncated/,
    );
  });

  it("refuses a truncated stream even when its manifest was signed over the truncated bytes", () => {
    const b = full();
    const p = variant("trunc2", b.subarray(0, b.length - 4096));
    const m = resign(readManifest(rel["1.10"]!.manifest), key, join(out, "trunc2.json"), p);
    expectRefused(receive(m, p), "BAD_STREAM", /end marker|torn|past/);
  });

  it("refuses a bit-flipped stream", () => {
    const b = Buffer.from(full());
    b[Math.floor(b.length / 2)]! ^= 0x10;
    expectRefused(receive(rel["1.10"]!.manifest, variant("flip", b)), "DIGEST_MISMATCH", /chunk \d+/);
  });

  it("refuses garbage", () => {
    const p = variant("garbage", randomData(300_000));
    expectRefused(receive(rel["1.10"]!.manifest, p), "DIGEST_MISMATCH");
    const m = resign(readManifest(rel["1.10"]!.manifest), key, join(out, "garbage.json"), p);
    expectRefused(receive(m, p), "BAD_STREAM", /not a btrfs send stream/);
  });

  it("refuses a stream without its end marker", () => {
    const b = full();
    const p = variant("noend", b.subarray(0, b.length - 10)); // END is a bare 10-byte command
    const m = resign(readManifest(rel["1.10"]!.manifest), key, join(out, "noend.json"), p);
    expectRefused(receive(m, p), "BAD_STREAM", /end marker/);
  });

  it("cleans up after btrfs receive itself fails on a signed stream with a broken checksum", () => {
    const b = Buffer.from(full());
    b[17 + 6]! ^= 0xff; // CRC of the first command
    const p = variant("badcrc", b);
    const m = resign(readManifest(rel["1.10"]!.manifest), key, join(out, "badcrc.json"), p);
    expectRefused(receive(m, p), "RECEIVE_FAILED", /btrfs receive failed/);
  });
});

describe("signatures and replays (case 9)", () => {
  it("refuses a release signed by a key the host does not trust", () => {
    const stranger = makeKey(s.root, "stranger");
    const m = resign(readManifest(rel["1.10"]!.manifest), stranger.key, join(out, "stranger.json"));
    expectRefused(receive(m, rel["1.10"]!.stream), "UNTRUSTED_KEY", /does not trust/);
  });

  it("refuses a manifest whose signature is valid but covers other bytes", () => {
    expectRefused(receive(rel["1.10"]!.manifest, rel["1.9"]!.stream), "DIGEST_MISMATCH");
    const m = readManifest(rel["1.10"]!.manifest);
    const forged = { ...m, tree: { ...m.tree, files: m.tree.files + 1 } };
    const p = join(out, "forged.json");
    writeFileSync(p, JSON.stringify(forged));
    expectRefused(receive(p, rel["1.10"]!.stream), "BAD_SIGNATURE");
  });

  it("refuses a stream whose source changes while it is received; there is no staged copy to swap", async () => {
    // Four 4 MiB chunks. The agent pauses once the first verified chunk reached btrfs receive.
    const source = join(out, "bulk-source.stream");
    writeFileSync(source, readFileSync(rel.bulk!.stream));
    const { exit, stdout, opDir } = await startPaused(
      host,
      ["receive", ...S(), "--manifest", rel.bulk!.manifest, "--stream", source],
      "receive.mid-receive",
    );
    expect(opDir).toBeDefined();
    // Nothing in .staging holds stream bytes: btrfs receive reads a pipe.
    expect(readdirSync(opDir!).sort()).toEqual(["paused-receive.mid-receive", "recv"]);
    // Rewrite the source in place (same inode, same length) with another signed stream's bytes,
    // as someone with access to it would: what the agent reads from now on is not what was signed.
    const other1 = readFileSync(other["1.9"]!.stream);
    const swapped = Buffer.concat([other1, randomData(statSync(source).size - other1.length)]);
    writeFileSync(source, swapped);
    rmSync(join(opDir!, "paused-receive.mid-receive"));
    expect(await exit).toBe(1);
    const err = JSON.parse(stdout()).error;
    expect(err).toMatchObject({ code: "DIGEST_MISMATCH", step: "verify" });
    expect(err.message).toMatch(/chunk [1-3] /);
    expect(existsSync(join(host, "apps/bulk"))).toBe(false);
    expectUntouched();
  });

  it("refuses an older signed release replayed as an update", () => {
    expect(receive(rel["1.10"]!.manifest, rel["1.10"]!.stream).code).toBe(0);
    expect(agent(["activate", ...S(), "web", "1.10"]).json.current).toBe("1.10");
    const r = agent(["activate", ...S(), "web", "1.9"]);
    expect(r.json.error).toMatchObject({ code: "REPLAY_REFUSED", step: "activate" });
    expect(storeState(host, "web").current).toBe("1.10");
    expect(agent(["activate", ...S(), "web", "1.9", "--rollback"]).json.current).toBe("1.9");
    expect(agent(["remove", ...S(), "web", "1.10"]).json.error.code).toBe("IN_USE");
    // Put the store back: 1.9 current, no previous, 1.10 gone.
    execFileSync("rm", [join(host, "apps/web/previous")]);
    expect(agent(["remove", ...S(), "web", "1.10"]).json.removed).toBe(true);
    expectUntouched();
  });
});

describe("parents (case 10)", () => {
  it("refuses an incremental stream whose parent is not installed", () => {
    const m = readManifest(rel["1.10"]!.incManifest!);
    const p = resign({ ...m, app: "other" }, key, join(out, "other-inc.json"));
    const r = receive(p, rel["1.10"]!.incStream!);
    expect(r.json.error).toMatchObject({ code: "PARENT_MISSING", step: "parent" });
    expectUntouched();
  });

  it("refuses an incremental stream when the installed parent is another tree of the same version", () => {
    const h2 = s.btrfs("host2", 160);
    const S2 = storeArgs(h2, trusted);
    expect(
      agent(["receive", ...S2, "--manifest", other["1.9"]!.manifest, "--stream", other["1.9"]!.stream]).code,
    ).toBe(0);
    const r = agent([
      "receive",
      ...S2,
      "--manifest",
      rel["1.10"]!.incManifest!,
      "--stream",
      rel["1.10"]!.incStream!,
    ]);
    expect(r.json.error).toMatchObject({ code: "PARENT_MISMATCH" });
    expect(storeState(h2, "web")).toMatchObject({ versions: ["1.9"], staging: [] });
  });

  it("refuses a stream that is incremental against another parent than its manifest says", () => {
    const m = readManifest(rel["1.10"]!.incManifest!);
    const { parent: _p, ...full } = m;
    const p = resign(full as typeof m, key, join(out, "noparent.json"));
    expectRefused(receive(p, rel["1.10"]!.incStream!), "PARENT_MISMATCH", /incremental/);
  });
});

describe("special files (case 8)", () => {
  it("refuses setuid files and device nodes unless declared and allowed, and reports them", () => {
    const m = readManifest(rel.special!.manifest);
    expect(m.special).toEqual({ setuid: true, capabilities: false, devices: true });
    const r1 = receive(rel.special!.manifest, rel.special!.stream);
    expect(r1.json.error).toMatchObject({ code: "SPECIAL_FILES" });
    expect(r1.json.error.message).toMatch(/does not allow/);
    expect(r1.json.error.message).toMatch(/setuid\/setgid files \(bin\/su\)/);
    const { special: _sp, ...undeclared } = m;
    const p = resign(undeclared as typeof m, key, join(out, "undeclared.json"));
    const r2 = receive(p, rel.special!.stream, ["--allow-special"]);
    expect(r2.json.error).toMatchObject({ code: "SPECIAL_FILES" });
    expect(r2.json.error.message).toMatch(/the manifest does not declare/);
    expect(r2.json.error.details.special.setuid).toEqual(["bin/su"]);
    expect(existsSync(join(host, "apps/tool/1.0"))).toBe(false);
    expectUntouched();
    const ok = receive(rel.special!.manifest, rel.special!.stream, ["--allow-special"]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json.special).toEqual({ setuid: ["bin/su"], capabilities: [], devices: ["null"], xattrs: [] });
    expect(agent(["remove", ...S(), "tool", "1.0"]).json.removed).toBe(true);
  });
});

describe("escape attempts (case 7)", () => {
  const crafted = (name: string, ops: CraftOp[], opts?: { end?: boolean }) => {
    const c = craftSendStream("x", ops, opts);
    const p = variant(`${name}.stream`, c.stream);
    const m = readManifest(rel["1.9"]!.manifest);
    const mp = resign(
      { ...m, app: "evil", version: "1", stream: { ...m.stream, uuid: c.uuid } },
      key,
      join(out, `${name}.json`),
      p,
    );
    return receive(mp, p);
  };
  const evilGone = () => {
    expect(existsSync(join(host, "apps/evil"))).toBe(false);
    expectUntouched();
  };

  it("refuses ../ paths before btrfs receive sees them", () => {
    const r = crafted("dotdot", [{ op: "mkfile", path: "../escaped", data: "pwned" }]);
    expect(r.json.error).toMatchObject({ code: "STREAM_ESCAPE", step: "verify" });
    expect(r.json.error.message).toMatch(/outside the tree/);
    evilGone();
  });

  it("refuses a hard link and a rename out of the target", () => {
    expect(
      crafted("link", [{ op: "link", path: "passwd", existing: "../../../etc/passwd" }]).json.error.code,
    ).toBe("STREAM_ESCAPE");
    expect(
      crafted("rename", [
        { op: "mkfile", path: "a" },
        { op: "rename", from: "a", to: "../../a" },
      ]).json.error.code,
    ).toBe("STREAM_ESCAPE");
    evilGone();
  });

  it("a symlink and a write through it are refused before btrfs receive sees them, naming the symlink", () => {
    const r = crafted("symlink", [
      { op: "symlink", path: "s", target: outsideCanary },
      { op: "mkfile", path: "s/pwned", data: "pwned" },
    ]);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ code: "STREAM_ESCAPE", step: "verify" });
    expect(r.json.error.message).toBe(
      `the stream writes through a symlink (s → ${outsideCanary}, for s/pwned)`,
    );
    evilGone();
  });

  it("refuses a stream with two subvolumes' worth of commands or a 4 GiB command", () => {
    const c = craftSendStream("x", []);
    const huge = Buffer.alloc(10);
    huge.writeUInt32LE(0xfffffff0, 0);
    huge.writeUInt16LE(15, 4);
    const p = variant("huge.stream", Buffer.concat([c.stream.subarray(0, c.stream.length - 10), huge]));
    const m = readManifest(rel["1.9"]!.manifest);
    const mp = resign(
      { ...m, app: "evil", version: "1", stream: { ...m.stream, uuid: c.uuid } },
      key,
      join(out, "huge.json"),
      p,
    );
    expect(receive(mp, p).json.error).toMatchObject({ code: "BAD_STREAM" });
    expect(receive(mp, p).json.error.message).toMatch(/claims/);
    evilGone();
  });
});

describe("names (case 11)", () => {
  const commands = (bad: string) => [
    ["activate", bad, "1.9"],
    ["rollback", bad],
    ["remove", bad, "1.9"],
    ["verify", bad],
    ["gc", bad, "--keep", "2"],
  ];
  it.each([["../x"], ["-rf"], ["a/b"], ["$(id)"], ["x\ny"], ["ＡＢ"], ["a".repeat(65)]])(
    "refuses app %j",
    (bad) => {
      const all = commands(bad);
      const args = all[bad.length % all.length]!;
      const r = agent([...args.slice(0, 1), ...S(), ...args.slice(1)]);
      expect(r.code, JSON.stringify(args)).toBe(2);
      expect(r.json.error.code).toBe("INVALID_NAME");
      expectUntouched();
    },
  );

  it.each([["../1"], ["current"], ["1/2"], ["-1"], [".."]])("refuses version %j", (bad) => {
    expect(agent(["activate", ...S(), "web", bad]).json.error.code).toBe("INVALID_NAME");
    expectUntouched();
  });
});

describe("disk full (case 5)", () => {
  it("refuses with DISK_FULL naming the step, removes staging and keeps the old version active", async () => {
    const tiny = s.btrfs("tiny", 200);
    const T = storeArgs(tiny, trusted);
    expect(
      agent(["receive", ...T, "--manifest", rel["1.9"]!.manifest, "--stream", rel["1.9"]!.stream]).code,
    ).toBe(0);
    expect(agent(["activate", ...T, "web", "1.9"]).code).toBe(0);
    const src = s.dir("srcbig");
    writeTree(src, { "bin/app": "big\n", blob: randomData(70 * 1024 * 1024) });
    const bigStore = s.btrfs("bigbuild", 400);
    const b = buildRelease(bigStore, src, "web", "2.0", key, out);
    // The space check before the stream passes; the space goes while btrfs receive is writing.
    const { exit, stdout, marker } = await startPaused(
      tiny,
      ["receive", ...T, "--manifest", b.manifest, "--stream", b.stream],
      "receive.mid-receive",
    );
    expect(marker).toBeDefined();
    const filler = join(tiny, "filler");
    spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M", "status=none"]); // until ENOSPC
    execFileSync("sync", ["-f", tiny]);
    rmSync(marker!);
    expect(await exit).toBe(1);
    rmSync(filler);
    const r = { json: JSON.parse(stdout()) };
    expect(r.json.error.code).toBe("DISK_FULL");
    expect(r.json.error.step).toBe("receive");
    expect(r.json.error.message).toMatch(/space/);
    expect(storeState(tiny, "web")).toMatchObject({
      current: "1.9",
      versions: ["1.9"],
      staging: [],
      journal: [],
      metas: ["1.9.json"],
    });
    expect(readFileSync(join(tiny, "apps/web/current/bin/app"), "utf8")).toBe("v1.9\n");
  });
});
