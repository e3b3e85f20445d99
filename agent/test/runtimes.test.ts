// Runtimes in the agent's store (decision 0023), on real btrfs loop images through the CLI: a
// runtime lands in runtimes/, an app is not activated without the runtime its signed manifest
// requires, a runtime switch that would break the app is refused, a crash mid-switch in runtimes/
// is completed by the next start, and gc keeps what an app needs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agent, buildRelease, storeArgs, testBench, writeTree, type Scratch } from "./helpers";

let s: Scratch;
let host: string;
let trusted: string;
const rel: Record<string, { manifest: string; stream: string }> = {};

function build(
  store: string,
  src: string,
  key: string,
  out: string,
  app: string,
  version: string,
  extra: string[],
) {
  const r = buildRelease(store, src, app, version, key, out, undefined, extra);
  rel[`${app}-${version}`] = { manifest: r.manifest, stream: r.stream };
}

beforeAll(() => {
  const bench = testBench("runtimes");
  ({ s, trusted } = bench);
  const { key, out, src } = bench;
  const store = s.btrfs("build", 300);
  host = s.btrfs("host", 300);
  for (const v of ["1.0", "1.1", "2.0"]) {
    writeTree(src, { "bin/rt": `rt ${v}\n` });
    build(store, src, key, out, "rt", v, ["--kind", "runtime"]);
  }
  writeTree(src, { "bin/web": "web\n" });
  build(store, src, key, out, "web", "1.0", [
    "--requires",
    JSON.stringify([{ runtime: "rt", versions: "^1" }]),
  ]);
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);
const receive = (name: string) =>
  agent(["receive", ...S(), "--manifest", rel[name]!.manifest, "--stream", rel[name]!.stream]);
const link = (section: string, name: string, l: string) =>
  agent(["facts", ...S()]).json[section === "apps" ? "apps" : "runtimes"].find(
    (a: { app: string }) => a.app === name,
  )?.[l] ?? null;

describe("runtimes in the agent's store", () => {
  it("keeps an app off until its runtime is there, and refuses a runtime that would break it", () => {
    expect(receive("web-1.0").code).toBe(0);
    const early = agent(["activate", ...S(), "web", "1.0"]);
    expect(early.json.error).toMatchObject({
      code: "REQUIREMENT_UNMET",
      message: "web 1.0 requires runtime rt ^1, which is not installed on this host; install it first",
    });
    expect(existsSync(join(host, "apps", "web", "current"))).toBe(false);

    for (const v of ["1.0", "1.1", "2.0"]) expect(receive(`rt-${v}`).code).toBe(0);
    expect(existsSync(join(host, "runtimes", "rt", "1.0"))).toBe(true);
    expect(existsSync(join(host, "apps", "rt"))).toBe(false);
    expect(agent(["activate", ...S(), "rt", "1.0", "--kind", "runtime"]).code).toBe(0);
    expect(agent(["activate", ...S(), "web", "1.0"]).code).toBe(0);
    const facts = agent(["facts", ...S()]).json;
    expect(facts.runtimes).toEqual([expect.objectContaining({ app: "rt", current: "1.0" })]);
    expect(facts.apps[0].versions[0].requires).toEqual([{ runtime: "rt", versions: "^1" }]);

    const breaking = agent(["activate", ...S(), "rt", "2.0", "--kind", "runtime"]);
    expect(breaking.json.error).toMatchObject({
      code: "REQUIREMENT_UNMET",
      message: "runtime rt 2.0 would break installed apps: web 1.0 needs ^1",
    });
    expect(link("runtimes", "rt", "current")).toBe("1.0");
  });

  it("completes a runtime switch killed after the rename", () => {
    const killed = agent(["activate", ...S(), "rt", "1.1", "--kind", "runtime"], {
      env: { KEEL_AGENT_FAULT: "activate.renamed" },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(link("runtimes", "rt", "current")).toBe("1.1"); // facts ran recovery
    expect(link("runtimes", "rt", "previous")).toBe("1.0");
    expect(agent(["verify", ...S(), "rt", "--kind", "runtime"]).code).toBe(0);
  });

  it("gc keeps the runtime versions apps need and removes the rest", () => {
    const gc = agent(["gc", ...S(), "--keep", "2"]);
    expect(gc.json.removed).toEqual([{ app: "rt", version: "2.0", kind: "runtime" }]);
    expect(existsSync(join(host, "runtimes", "rt", "1.1"))).toBe(true);
  });
});
