// The btrfs store end to end with the real bundle: build releases, full and incremental receive,
// activate, rollback, replay refusal, remove/gc, verify, facts, the lock, serve with DATA frames.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameDecoder, encodeDataFrames, encodeEndFrame, encodeJsonFrame, type Frame } from "../protocol";
import {
  agent,
  buildRelease,
  isSubvolumeReadOnly,
  randomData,
  readManifest,
  startPaused,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  AGENT,
  type Built,
  type Loose,
  type Scratch,
} from "./helpers";

let s: Scratch;
let buildStore: string;
let host: string;
let trusted: string;
let key: string;
const rel: Record<string, Built> = {};
const big = randomData(4 * 1024 * 1024);

beforeAll(() => {
  let src: string, out: string;
  ({ s, key, trusted, out, src } = testBench("btrfs"));
  buildStore = s.btrfs("build", 512);
  host = s.btrfs("host", 256);
  writeTree(src, { "bin/run": "#!/bin/sh\necho 1.9\n", "share/big.bin": big, "etc/conf": "a=1\n" });
  chmodSync(join(src, "bin/run"), 0o755);
  rel["1.9"] = buildRelease(buildStore, src, "web", "1.9", key, out);
  writeTree(src, { "bin/run": "#!/bin/sh\necho 1.10\n", "etc/new": "added\n" });
  rel["1.10"] = buildRelease(buildStore, src, "web", "1.10", key, out, "1.9");
  writeTree(src, { "bin/run": "#!/bin/sh\necho 1.11\n" });
  rel["1.11"] = buildRelease(buildStore, src, "web", "1.11", key, out, "1.10");
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
const receive = (manifest: string, stream: string, extra: string[] = []) =>
  agent(["receive", ...S(), "--manifest", manifest, "--stream", stream, ...extra]);

describe("btrfs store", () => {
  it("receives a full stream into a read-only subvolume without activating it", () => {
    const r = receive(rel["1.9"]!.manifest, rel["1.9"]!.stream);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ app: "web", version: "1.9", backend: "btrfs", alreadyInstalled: false });
    expect(r.json.receivedUuid).toBe(readManifest(rel["1.9"]!.manifest).stream.uuid);
    const tree = join(host, "apps/web/1.9");
    expect(isSubvolumeReadOnly(tree)).toBe(true);
    expect(readFileSync(join(tree, "share/big.bin")).equals(big)).toBe(true);
    expect(storeState(host, "web")).toMatchObject({ current: null, staging: [], journal: [] });
  });

  it("repeating a receive is a no-op that says so", () => {
    const r = receive(rel["1.9"]!.manifest, rel["1.9"]!.stream);
    expect(r.json).toMatchObject({ alreadyInstalled: true, streamBytes: 0 });
  });

  it("activates by switching the current symlink", () => {
    const r = agent(["activate", ...S(), "web", "1.9"]);
    expect(r.json).toMatchObject({ current: "1.9", previous: null, changed: true });
    expect(execFileSync(join(host, "apps/web/current/bin/run")).toString()).toBe("1.9\n");
  });

  it("receives an incremental stream against the installed parent and shares its extents", () => {
    const full = statSync(rel["1.10"]!.stream).size;
    const inc = statSync(rel["1.10"]!.incStream!).size;
    expect(inc).toBeLessThan(full / 100);
    const r = receive(rel["1.10"]!.incManifest!, rel["1.10"]!.incStream!);
    expect(r.code, r.stdout).toBe(0);
    expect(readFileSync(join(host, "apps/web/1.10/etc/new"), "utf8")).toBe("added\n");
    expect(readFileSync(join(host, "apps/web/1.10/share/big.bin")).equals(big)).toBe(true);
    const a = agent(["activate", ...S(), "web", "1.10"]);
    expect(a.json).toMatchObject({ current: "1.10", previous: "1.9" });
    expect(execFileSync(join(host, "apps/web/current/bin/run")).toString()).toBe("1.10\n");
  });

  it("refuses to activate an older version as an update, allows it as an explicit rollback", () => {
    const r = agent(["activate", ...S(), "web", "1.9"]);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ code: "REPLAY_REFUSED", step: "activate" });
    expect(storeState(host, "web").current).toBe("1.10");
    const rb = agent(["activate", ...S(), "web", "1.9", "--rollback"]);
    expect(rb.json).toMatchObject({ current: "1.9", previous: "1.10" });
    expect(agent(["activate", ...S(), "web", "1.10"]).json.current).toBe("1.10");
  });

  it("rolls back to previous and back again without sending anything", () => {
    expect(agent(["rollback", ...S(), "web"]).json).toMatchObject({ current: "1.9", previous: "1.10" });
    expect(execFileSync(join(host, "apps/web/current/bin/run")).toString()).toBe("1.9\n");
    expect(agent(["rollback", ...S(), "web"]).json).toMatchObject({ current: "1.10", previous: "1.9" });
  });

  it("reports every version in facts", () => {
    const f = agent(["facts", ...S()]).json;
    expect(f.store).toMatchObject({ backend: "btrfs", fsType: "btrfs" });
    expect(f.host.machineId).toMatch(/^[0-9a-f]{32}$/);
    const web = f.apps.find((a: { app: string }) => a.app === "web");
    expect(web).toMatchObject({ current: "1.10", previous: "1.9" });
    expect(web.versions.map((v: { version: string }) => v.version)).toEqual(["1.9", "1.10"]);
    expect(web.versions[1]).toMatchObject({ readOnly: true, isCurrent: true, kind: "app", files: 7 });
  });

  it("verify passes on intact trees and catches a modified one", () => {
    expect(agent(["verify", ...S(), "web"]).json.versions).toHaveLength(2);
    const tree = join(host, "apps/web/1.9");
    execFileSync("btrfs", ["property", "set", "-f", "-ts", tree, "ro", "false"]);
    writeFileSync(join(tree, "etc/conf"), "a=2\n");
    const r = agent(["verify", ...S(), "web", "1.9"]);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("VERIFY_FAILED");
    expect(r.json.error.message).toMatch(/read-only|digest/);
  });

  it("remove refuses current and previous; gc keeps current and previous", () => {
    expect(receive(rel["1.11"]!.incManifest!, rel["1.11"]!.incStream!).code).toBe(0);
    expect(agent(["activate", ...S(), "web", "1.11"]).json.current).toBe("1.11");
    expect(agent(["remove", ...S(), "web", "1.11"]).json.error.code).toBe("IN_USE");
    expect(agent(["remove", ...S(), "web", "1.10"]).json.error.code).toBe("IN_USE");
    const gc = agent(["gc", ...S(), "--keep", "2"]);
    expect(gc.json.removed).toEqual([{ app: "web", version: "1.9" }]);
    expect(storeState(host, "web")).toMatchObject({
      versions: ["1.10", "1.11"],
      metas: ["1.10.json", "1.11.json"],
    });
    expect(agent(["remove", ...S(), "web", "1.9"]).json).toMatchObject({ removed: false });
  });

  it("a second operation on the store gets a clear busy error", async () => {
    const first = await startPaused(
      host,
      ["receive", ...S(), "--manifest", rel["1.9"]!.manifest, "--stream", rel["1.9"]!.stream],
      "receive.mid-receive",
    );
    try {
      expect(first.marker).toBeDefined();
      const second = agent(["rollback", ...S(), "web"]);
      expect(second.code).toBe(75);
      expect(second.json.error).toMatchObject({ code: "BUSY", retryable: true });
      expect(second.json.error.message).toMatch(/another keel-agent operation/);
      rmSync(first.marker!, { force: true });
      expect(await first.exit).toBe(0);
    } finally {
      first.child.kill("SIGKILL");
    }
    expect(storeState(host, "web")).toMatchObject({ current: "1.11", staging: [], journal: [] });
  });

  it("serve: hello, a receive carried in DATA frames after ready, then facts", async () => {
    agent(["remove", ...S(), "web", "1.9"]);
    const child = spawn("node", [AGENT, "serve", ...S()], { stdio: ["pipe", "pipe", "inherit"] });
    const dec = new FrameDecoder();
    const frames: Frame[] = [];
    let wake: (() => void) | null = null;
    child.stdout.on("data", (d: Buffer) => {
      frames.push(...dec.push(d));
      wake?.();
    });
    const next = async (): Promise<Loose> => {
      while (frames.length === 0) await new Promise<void>((r) => (wake = r));
      const f = frames.shift()!;
      if (f.kind !== "json") throw new Error("agent sent a non-JSON frame");
      return f.value as Loose;
    };
    try {
      expect(await next()).toMatchObject({ event: "hello", protocolVersion: 1 });
      const manifest = readManifest(rel["1.9"]!.manifest);
      child.stdin.write(
        encodeJsonFrame({ protocolVersion: 1, id: "r1", command: "receive", args: { manifest } }),
      );
      expect(await next()).toMatchObject({ id: "r1", event: "ready" });
      for (const b of encodeDataFrames(readFileSync(rel["1.9"]!.stream))) child.stdin.write(b);
      child.stdin.write(encodeEndFrame());
      let res = await next();
      while (res.event === "progress") res = await next();
      expect(res).toMatchObject({ id: "r1", ok: true, result: { version: "1.9", alreadyInstalled: false } });
      // Already installed: answered at once, no ready, no bytes needed.
      child.stdin.write(
        encodeJsonFrame({ protocolVersion: 1, id: "r2", command: "receive", args: { manifest } }),
      );
      expect(await next()).toMatchObject({ id: "r2", ok: true, result: { alreadyInstalled: true } });
      // Extra fields are refused.
      child.stdin.write(
        encodeJsonFrame({
          protocolVersion: 1,
          id: "r3",
          command: "activate",
          args: { app: "web", version: "1.9", approvedBy: "me" },
        }),
      );
      expect(await next()).toMatchObject({ id: "r3", ok: false, error: { code: "BAD_REQUEST" } });
      child.stdin.write(encodeJsonFrame({ protocolVersion: 1, id: "f", command: "facts", args: {} }));
      const facts = await next();
      expect(facts.result.apps[0].versions.map((v: { version: string }) => v.version)).toEqual([
        "1.9",
        "1.10",
        "1.11",
      ]);
    } finally {
      child.stdin.end();
      child.kill("SIGKILL");
    }
  });
});
