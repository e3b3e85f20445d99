// The plain-directory fallback backend on a non-btrfs store (a temp dir on ext4): keel-tree-1
// releases, full and incremental receive (unchanged files hard-linked from the parent), activate,
// rollback, replay refusal, gc, crash at the named steps, bad and escaping streams.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_STEPS } from "../src/fault";
import type { TreeRecord } from "../src/store/tree-stream";
import {
  agent,
  buildRelease,
  inproc,
  randomData,
  readManifest,
  resign,
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
const rel: Record<string, Built> = {};
const blob = randomData(3 * 1024 * 1024);

beforeAll(() => {
  let src: string;
  ({ s, key, trusted, out, src } = testBench("plain"));
  const build = s.dir("build");
  host = s.dir("host");
  writeTree(src, { "bin/app": "#!/bin/sh\necho 1.9\n", "lib/blob": blob, "etc/conf": "x=1\n" });
  chmodSync(join(src, "bin/app"), 0o755);
  execFileSync("ln", ["-s", "../lib/blob", join(src, "bin/blob-link")]);
  rel["1.9"] = buildRelease(build, src, "web", "1.9", key, out);
  writeTree(src, { "bin/app": "#!/bin/sh\necho 1.10\n" });
  rel["1.10"] = buildRelease(build, src, "web", "1.10", key, out, "1.9");
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
const receive = (manifest: string, stream: string, env: Record<string, string> = {}) =>
  agent(["receive", ...S(), "--manifest", manifest, "--stream", stream], { env });

describe("plain-directory store", () => {
  it("builds keel-tree-1 releases whose incremental stream carries only what changed", () => {
    expect(readManifest(rel["1.9"]!.manifest).stream.format).toBe("keel-tree-1");
    expect(statSync(rel["1.10"]!.incStream!).size).toBeLessThan(10_000);
    expect(statSync(rel["1.10"]!.stream).size).toBeGreaterThan(blob.length);
  });

  it("receives, activates, updates incrementally with hard links, rolls back, refuses replays", () => {
    const r = receive(rel["1.9"]!.manifest, rel["1.9"]!.stream);
    expect(r.json, r.stdout).toMatchObject({ backend: "plain", version: "1.9", receivedUuid: null });
    expect(agent(["activate", ...S(), "web", "1.9"]).json.current).toBe("1.9");
    expect(execFileSync(join(host, "apps/web/current/bin/app")).toString()).toBe("1.9\n");
    expect(receive(rel["1.10"]!.incManifest!, rel["1.10"]!.incStream!).code).toBe(0);
    const a = statSync(join(host, "apps/web/1.9/lib/blob"));
    const b = statSync(join(host, "apps/web/1.10/lib/blob"));
    expect(b.ino).toBe(a.ino);
    expect(readFileSync(join(host, "apps/web/1.10/bin/blob-link")).equals(blob)).toBe(true);
    expect(agent(["activate", ...S(), "web", "1.10"]).json).toMatchObject({
      current: "1.10",
      previous: "1.9",
    });
    expect(execFileSync(join(host, "apps/web/current/bin/app")).toString()).toBe("1.10\n");
    expect(agent(["activate", ...S(), "web", "1.9"]).json.error.code).toBe("REPLAY_REFUSED");
    expect(agent(["rollback", ...S(), "web"]).json).toMatchObject({ current: "1.9", previous: "1.10" });
    expect(agent(["rollback", ...S(), "web"]).json).toMatchObject({ current: "1.10", previous: "1.9" });
    const f = agent(["facts", ...S()]).json;
    expect(f.store).toMatchObject({ backend: "plain" });
    expect(f.apps[0]).toMatchObject({ app: "web", current: "1.10", previous: "1.9" });
    expect(agent(["verify", ...S(), "web"]).json.versions).toHaveLength(2);
    expect(storeState(host, "web")).toMatchObject({ staging: [], journal: [] });
  });

  it("verify notices a changed file", () => {
    const p = join(host, "apps/web/1.9/etc/conf");
    writeFileSync(p, "x=2\n");
    expect(agent(["verify", ...S(), "web", "1.9"]).json.error.code).toBe("VERIFY_FAILED");
    writeFileSync(p, "x=1\n");
    expect(agent(["verify", ...S(), "web", "1.9"]).code).toBe(0);
  });

  it("refuses a btrfs-send release on a plain store", () => {
    const m = readManifest(rel["1.9"]!.manifest);
    const p = resign(
      {
        ...m,
        version: "9",
        stream: { ...m.stream, format: "btrfs-send", uuid: "af0956dc-782f-bd4d-946b-d5dd458335f1" },
      },
      key,
      join(out, "wrong.json"),
    );
    expect(receive(p, rel["1.9"]!.stream).json.error.code).toBe("WRONG_BACKEND");
  });
});

describe("plain store: bad and escaping streams", () => {
  const tree = (records: TreeRecord[]): Buffer => {
    const parts = [Buffer.from("KEELTREE", "latin1"), Buffer.from([0, 0, 0, 1])];
    for (const r of records) {
      const h = Buffer.from(JSON.stringify(r));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(h.length);
      parts.push(len, h);
      if (r.t === "f") parts.push(Buffer.alloc(r.s, 0x41));
    }
    return Buffer.concat(parts);
  };
  const root: TreeRecord = { t: "d", p: ".", m: 0o755, u: 0, g: 0, mt: 0 };
  const tryTree = (name: string, records: TreeRecord[], parent?: boolean) => {
    const p = join(out, `${name}.tree`);
    writeFileSync(p, tree(records));
    const m = readManifest(parent ? rel["1.10"]!.incManifest! : rel["1.9"]!.manifest);
    const mp = resign({ ...m, version: `x-${name}` }, key, join(out, `${name}.json`), p);
    return receive(mp, p);
  };
  const untouched = () => {
    expect(storeState(host, "web")).toMatchObject({
      current: "1.10",
      previous: "1.9",
      staging: [],
      journal: [],
      versions: ["1.10", "1.9"],
    });
    expect(readFileSync(join(host, "apps/web/1.9/lib/blob")).equals(blob)).toBe(true);
  };

  it("refuses a bit-flipped stream", () => {
    const b = Buffer.from(readFileSync(rel["1.9"]!.stream));
    b[b.length >> 1]! ^= 1;
    const p = join(out, "flip.tree");
    writeFileSync(p, b);
    const m = resign({ ...readManifest(rel["1.9"]!.manifest), version: "2" }, key, join(out, "flip.json"));
    expect(receive(m, p).json.error.code).toBe("DIGEST_MISMATCH");
    untouched();
  });

  it("refuses ../ paths, writes through a symlink, and a stream without end marker", () => {
    expect(
      tryTree("dotdot", [
        root,
        { t: "f", p: "../escape", m: 0o644, u: 0, g: 0, mt: 0, s: 3 },
        { t: "e", files: 1, bytes: 3 },
      ]).json.error.code,
    ).toBe("BAD_STREAM");
    const viaLink = tryTree("vialink", [
      root,
      { t: "l", p: "s", target: s.root, u: 0, g: 0, mt: 0 },
      { t: "f", p: "s/pwned", m: 0o644, u: 0, g: 0, mt: 0, s: 3 },
      { t: "e", files: 2, bytes: 3 },
    ]);
    expect(viaLink.json.error).toMatchObject({ code: "BAD_STREAM" });
    expect(viaLink.json.error.message).toMatch(/writes through a symlink \(s → \/tmp\/[^)]*\) at "s\/pwned"/);
    expect(
      tryTree("noend", [root, { t: "f", p: "a", m: 0o644, u: 0, g: 0, mt: 0, s: 3 }]).json.error.message,
    ).toMatch(/end marker/);
    untouched();
  });

  it("refuses an update whose parent file was changed on the host", () => {
    const p = join(host, "apps/web/1.9/lib/blob");
    const saved = readFileSync(p);
    // The blob is hard-linked into 1.10 as well; change the inode's content in place.
    writeFileSync(p, Buffer.concat([saved.subarray(0, 100), Buffer.from("X"), saved.subarray(101)]));
    const m = resign(
      { ...readManifest(rel["1.10"]!.incManifest!), version: "1.10b" },
      key,
      join(out, "p.json"),
    );
    const r = receive(m, rel["1.10"]!.incStream!);
    expect(r.json.error.code).toBe("PARENT_MISMATCH");
    writeFileSync(p, saved);
    untouched();
  });
});

describe("plain store: kill -9 at the named steps", () => {
  const steps = FAULT_STEPS.filter((s) => s.startsWith("receive."));
  it.each(steps)("%s: current stays, the new version is complete or absent", async (step) => {
    const app = `p-${step.replace(/\W/g, "")}`;
    const m1 = resign({ ...readManifest(rel["1.9"]!.manifest), app }, key, join(out, `${app}-1.json`));
    const m2 = resign({ ...readManifest(rel["1.10"]!.incManifest!), app }, key, join(out, `${app}-2.json`));
    await inproc(host, trusted, "receive", { manifest: readManifest(m1) }, rel["1.9"]!.stream);
    await inproc(host, trusted, "activate", { app, version: "1.9" });
    expect(receive(m2, rel["1.10"]!.incStream!, { KEEL_AGENT_FAULT: step }).signal).toBe("SIGKILL");
    expect(agent(["facts", ...S()]).code).toBe(0);
    const st = storeState(host, app);
    expect(st).toMatchObject({ current: "1.9", staging: [], journal: [] });
    expect(st.metas).toEqual(st.versions.map((v) => `${v}.json`).sort());
    for (const v of st.versions) await inproc(host, trusted, "verify", { app, version: v });
    await inproc(host, trusted, "receive", { manifest: readManifest(m2) }, rel["1.10"]!.incStream!);
    await inproc(host, trusted, "activate", { app, version: "1.10" });
    expect(storeState(host, app)).toMatchObject({ current: "1.10", previous: "1.9" });
  });

  it.each(["activate.symlink-written", "activate.renamed", "activate.previous-renamed"])(
    "%s: current is exactly old or new",
    async (step) => {
      const app = `q-${step.replace(/\W/g, "")}`;
      for (const [v, r] of [
        ["1.9", rel["1.9"]!.manifest],
        ["1.10", rel["1.10"]!.incManifest!],
      ] as const) {
        const m = resign({ ...readManifest(r), app }, key, join(out, `${app}-${v}.json`));
        await inproc(
          host,
          trusted,
          "receive",
          { manifest: readManifest(m) },
          v === "1.9" ? rel["1.9"]!.stream : rel["1.10"]!.incStream!,
        );
      }
      await inproc(host, trusted, "activate", { app, version: "1.9" });
      expect(agent(["activate", ...S(), app, "1.10"], { env: { KEEL_AGENT_FAULT: step } }).signal).toBe(
        "SIGKILL",
      );
      expect(agent(["facts", ...S()]).code).toBe(0);
      const st = storeState(host, app);
      expect([
        ["1.9", null],
        ["1.10", "1.9"],
      ]).toContainEqual([st.current, st.previous]);
      expect(st).toMatchObject({ staging: [], journal: [] });
    },
  );

  it("gc keeps current and previous", async () => {
    const r = await inproc(host, trusted, "gc", { app: "web", keep: 2 });
    expect(r.removed).toEqual([]);
    expect(storeState(host, "web").versions).toEqual(["1.10", "1.9"]);
  });
});
