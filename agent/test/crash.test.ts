// RELIABILITY.md cases 1–3: the agent SIGKILLs itself at every named step (KEEL_AGENT_FAULT) of
// receive, activate, rollback, remove, gc and recovery, and a loop kills it at random moments.
// After the next start, `current` is exactly the old or the new version, complete (verify passes)
// and read-only; .staging and .journal are empty; current and previous are never deleted.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_STEPS } from "../src/fault";
import {
  agent,
  agentAsync,
  buildRelease,
  inproc,
  isSubvolumeReadOnly,
  randomData,
  readManifest,
  resign,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Scratch,
} from "./helpers";

let s: Scratch;
let host: string;
let trusted: string;
let key: string;
let out: string;
const files: Record<string, { manifest: string; stream: string }> = {};

beforeAll(() => {
  let src: string;
  ({ s, key, trusted, out, src } = testBench("crash"));
  const build = s.btrfs("build", 400);
  host = s.btrfs("host", 400);
  writeTree(src, { "bin/app": "1.9\n", "lib/blob": randomData(6 * 1024 * 1024) });
  const a = buildRelease(build, src, "web", "1.9", key, out);
  writeTree(src, { "bin/app": "1.10\n", "lib/more": randomData(3 * 1024 * 1024) });
  const b = buildRelease(build, src, "web", "1.10", key, out, "1.9");
  writeTree(src, { "bin/app": "1.11\n" });
  const c = buildRelease(build, src, "web", "1.11", key, out, "1.10");
  files["1.9"] = { manifest: a.manifest, stream: a.stream };
  files["1.10"] = { manifest: b.incManifest!, stream: b.incStream! };
  files["1.11"] = { manifest: c.incManifest!, stream: c.incStream! };
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
let appCounter = 0;

/** The release of `version` re-signed for app `app` (same stream bytes). */
function manifestFor(app: string, version: string): string {
  const p = join(out, `${app}-${version}.json`);
  if (!existsSync(p)) resign({ ...readManifest(files[version]!.manifest), app }, key, p);
  return p;
}

function receive(app: string, version: string, env: Record<string, string> = {}) {
  return agent(
    ["receive", ...S(), "--manifest", manifestFor(app, version), "--stream", files[version]!.stream],
    { env },
  );
}

const run = (command: string, args: Record<string, unknown>, stream?: string) =>
  inproc(host, trusted, command, args, stream);
const receiveIn = (app: string, version: string) =>
  run("receive", { manifest: readManifest(manifestFor(app, version)) }, files[version]!.stream);

function ok<T extends { code: number | null; stdout: string }>(r: T): T {
  expect(r.code, r.stdout).toBe(0);
  return r;
}

/**
 * Deletes the apps of earlier scenarios: all scenarios receive the same streams, and btrfs
 * receive finds an incremental stream's parent by Received UUID anywhere on the file system.
 */
function dropApps(): void {
  const apps = join(host, "apps");
  if (!existsSync(apps)) return;
  for (const app of readdirSync(apps)) {
    for (const v of readdirSync(join(apps, app))) {
      const p = join(apps, app, v);
      if (!v.startsWith(".") && v !== "current" && v !== "previous")
        execFileSync("btrfs", ["subvolume", "delete", p], { stdio: "ignore" });
    }
    rmSync(join(apps, app), { recursive: true, force: true });
  }
}

/** A fresh app with versions installed and current/previous set up. */
async function freshApp(versions: string[], current: string, previous?: string): Promise<string> {
  dropApps();
  const app = `c${++appCounter}`;
  for (const v of versions) await receiveIn(app, v);
  if (previous) await run("activate", { app, version: previous });
  await run("activate", { app, version: current });
  return app;
}

/** Next start (the real agent's facts runs recovery) and every invariant of the store for app. */
async function checkAfterCrash(
  app: string,
  allowed: [string | null, string | null][],
): Promise<{ current: string | null; previous: string | null }> {
  const facts = ok(agent(["facts", ...S()]));
  const st = storeState(host, app);
  expect(st.staging).toEqual([]);
  expect(st.journal).toEqual([]);
  expect(allowed).toContainEqual([st.current, st.previous]);
  expect(st.metas).toEqual(st.versions.map((v) => `${v}.json`).sort());
  for (const v of [st.current, st.previous]) {
    if (!v) continue;
    expect(st.versions).toContain(v);
    expect(isSubvolumeReadOnly(join(host, "apps", app, v))).toBe(true);
  }
  if (st.current) await run("verify", { app, version: st.current });
  const fa = facts.json.apps.find((a: { app: string }) => a.app === app);
  expect(fa).toMatchObject({ current: st.current, previous: st.previous });
  return { current: st.current, previous: st.previous };
}

function expectKilled(r: { signal: NodeJS.Signals | null; stdout: string; stderr: string }): void {
  expect(r.signal, r.stdout + r.stderr).toBe("SIGKILL");
}

describe("kill -9 at every step of an install (case 1)", () => {
  // Every receive step the agent can be killed at (a step added to FAULT_STEPS is tested too).
  const receiveSteps = FAULT_STEPS.filter((s) => s.startsWith("receive."));
  it.each(receiveSteps)(
    "%s: the old version stays current; the new one is complete or absent",
    async (step) => {
      const app = await freshApp(["1.9"], "1.9");
      expectKilled(receive(app, "1.10", { KEEL_AGENT_FAULT: step }));
      await checkAfterCrash(app, [["1.9", null]]);
      const versions = storeState(host, app).versions;
      if (versions.includes("1.10")) await run("verify", { app, version: "1.10" });
      // The install can simply be repeated.
      await receiveIn(app, "1.10");
      await run("activate", { app, version: "1.10" });
      await checkAfterCrash(app, [["1.10", "1.9"]]);
    },
  );

  const switchSteps = [
    "activate.symlink-written",
    "activate.renamed",
    "activate.fsynced",
    "activate.previous-renamed",
  ];
  it.each(switchSteps)("%s during activate: current is exactly old or new", async (step) => {
    const app = await freshApp(["1.9", "1.10"], "1.9");
    expectKilled(agent(["activate", ...S(), app, "1.10"], { env: { KEEL_AGENT_FAULT: step } }));
    await checkAfterCrash(app, [
      ["1.9", null],
      ["1.10", "1.9"],
    ]);
  });
});

describe("crash during rollback, remove, gc and recovery (case 3)", () => {
  it.each(["activate.symlink-written", "activate.renamed", "activate.fsynced", "activate.previous-renamed"])(
    "%s during rollback: both versions survive, one is current",
    async (step) => {
      const app = await freshApp(["1.9", "1.10"], "1.10", "1.9");
      expectKilled(agent(["rollback", ...S(), app], { env: { KEEL_AGENT_FAULT: step } }));
      await checkAfterCrash(app, [
        ["1.10", "1.9"],
        ["1.9", "1.10"],
      ]);
      expect(storeState(host, app).versions).toEqual(["1.10", "1.9"]);
    },
  );

  it("remove.deleted: the removed version is gone for good, current and previous untouched", async () => {
    const app = await freshApp(["1.9", "1.10", "1.11"], "1.11", "1.10");
    expectKilled(agent(["remove", ...S(), app, "1.9"], { env: { KEEL_AGENT_FAULT: "remove.deleted" } }));
    await checkAfterCrash(app, [["1.11", "1.10"]]);
    expect(storeState(host, app).versions).toEqual(["1.10", "1.11"]);
  });

  it("gc.removed-one: gc never deletes current or previous and finishes on the next run", async () => {
    const app = await freshApp(["1.9", "1.10", "1.11"], "1.10", "1.9");
    expectKilled(agent(["gc", ...S(), app, "--keep", "2"], { env: { KEEL_AGENT_FAULT: "gc.removed-one" } }));
    await checkAfterCrash(app, [["1.10", "1.9"]]);
    expect(storeState(host, app).versions).toEqual(["1.10", "1.9"]);
  });

  it("recover.started: a crash during recovery is recovered by the next start", async () => {
    const app = await freshApp(["1.9", "1.10"], "1.9");
    expectKilled(agent(["activate", ...S(), app, "1.10"], { env: { KEEL_AGENT_FAULT: "activate.renamed" } }));
    expect(storeState(host, app).journal).toHaveLength(1);
    expectKilled(agent(["facts", ...S()], { env: { KEEL_AGENT_FAULT: "recover.started" } }));
    await checkAfterCrash(app, [["1.10", "1.9"]]);
  });
});

describe("random kills (case 2)", () => {
  it("25 random SIGKILLs during install, activate and rollback leave a consistent store every time", async () => {
    const app = await freshApp(["1.9"], "1.9");
    let rng = 0x2f6e2b1;
    const rand = () => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let killedMidway = 0;
    const took = new Map<string, number>();
    for (let i = 0; i < 25; i++) {
      const st = storeState(host, app);
      const missing = ["1.10", "1.11"].find((v) => !st.versions.includes(v));
      const ops: string[][] = [];
      if (missing && (missing === "1.10" || st.versions.includes("1.10"))) {
        ops.push([
          "receive",
          ...S(),
          "--manifest",
          manifestFor(app, missing),
          "--stream",
          files[missing]!.stream,
        ]);
      }
      const newest = st.versions.includes("1.11") ? "1.11" : st.versions.includes("1.10") ? "1.10" : "1.9";
      if (st.current !== newest) ops.push(["activate", ...S(), app, newest]);
      if (st.previous) ops.push(["rollback", ...S(), app]);
      const extra = st.versions.find((v) => v !== st.current && v !== st.previous);
      if (extra) ops.push(["remove", ...S(), app, extra]);
      const args = ops[Math.floor(rand() * ops.length)]!;
      const started = Date.now();
      const child = agentAsync(args);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
      // A random point within how long this kind of operation last took when it was not killed
      // (400 ms until one finished), so that most operations are still running on a fast machine
      // as on a slow one; the named-step tests above cover every step.
      const kind = args[0]!;
      const delay = 20 + Math.floor(rand() * Math.max(10, (took.get(kind) ?? 400) - 20));
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      const sig = await exited;
      clearTimeout(timer);
      if (sig === "SIGKILL") killedMidway++;
      else took.set(kind, Date.now() - started);
      const before = { current: st.current, previous: st.previous };
      const after = await checkAfterCrash(app, [
        [before.current, before.previous],
        ...["1.9", "1.10", "1.11"].flatMap((v) => [
          [v, before.current] as [string, string | null],
          [v, before.previous] as [string, string | null],
        ]),
      ]);
      // The version that was current before is still installed unless it is no longer current or previous.
      if (before.current && (after.current === before.current || after.previous === before.current)) {
        expect(storeState(host, app).versions).toContain(before.current);
      }
    }
    expect(killedMidway).toBeGreaterThan(5);
  });
});
