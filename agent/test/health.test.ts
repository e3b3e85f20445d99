// `keel-agent health`: the check comes from the installed version's signed manifest (the caller
// cannot send one), runs without a shell in the version's tree with a clean environment, and a
// check that hangs is killed at its timeout. Plain-directory store in a temp dir (no btrfs needed).
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agent, buildAgent, makeKey, scratch, storeArgs, writeTree, type Scratch } from "./helpers";

let s: Scratch;
let host: string;
let trusted: string;
let marker: string;
const S = () => storeArgs(host, trusted);

function release(version: string, healthCheck?: object) {
  const src = s.dir(`src-${version}`);
  writeTree(src, { "bin/app": `#!/bin/sh\necho ${version}\n` });
  const args = ["build", "--store", s.dir(`build-${version}`), "--from", src, "--app", "web", "--version", version, "--key", key, "--out", s.dir(`out-${version}`)];
  if (healthCheck) args.push("--health-check", JSON.stringify(healthCheck));
  const b = agent(args);
  expect(b.code, b.stdout + b.stderr).toBe(0);
  const r = agent(["receive", ...S(), "--manifest", b.json.full.manifestPath, "--stream", b.json.full.streamPath]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}
let key: string;

beforeAll(() => {
  buildAgent();
  s = scratch("health");
  host = s.dir("host");
  ({ key, trusted } = makeKey(s.root));
  marker = join(s.root, "healthy");
  release("1.0"); // no check
  release("2.0", { type: "exec", argv: ["/usr/bin/test", "-f", marker], timeoutMs: 10_000 });
  // Runs in the version's tree with only PATH and KEEL_* set.
  release("3.0", { type: "exec", argv: ["/bin/sh", "-c", 'test "$PWD" = "$KEEL_APP_DIR" && test "$KEEL_VERSION" = 3.0 && test -z "$HOME" || { echo "bad env: $PWD $HOME" >&2; exit 3; }'], timeoutMs: 10_000 });
  release("4.0", { type: "exec", argv: ["/bin/sleep", "60"], timeoutMs: 300 });
  release("5.0", { type: "http", url: "http://127.0.0.1:9/health", expectStatus: 200, timeoutMs: 2_000 });
});
afterAll(() => s?.cleanup());

describe("keel-agent health", () => {
  it("says nothing ran for a version whose manifest declares no check", () => {
    const r = agent(["health", ...S(), "web", "1.0"]);
    expect(r.json).toMatchObject({ app: "web", version: "1.0", ran: false, ok: true });
  });

  it("runs the signed argv: fails while the marker is missing, passes once it exists", () => {
    rmSync(marker, { force: true });
    expect(agent(["health", ...S(), "web", "2.0"]).json).toMatchObject({ ran: true, ok: false, outcome: "exit 1" });
    writeFileSync(marker, "");
    expect(agent(["health", ...S(), "web", "2.0"]).json).toMatchObject({ ran: true, ok: true, outcome: "exit 0" });
  });

  it("runs in the version's tree with a clean environment", () => {
    const r = agent(["health", ...S(), "web", "3.0"], { env: { HOME: "/root", SECRET: "x" } });
    expect(r.json, r.stdout).toMatchObject({ ran: true, ok: true });
  });

  it("kills a check that outlives its timeout", () => {
    const started = Date.now();
    const r = agent(["health", ...S(), "web", "4.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: false, outcome: "killed after the 300 ms timeout" });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("reports an HTTP check whose service does not answer, with the reason", () => {
    const r = agent(["health", ...S(), "web", "5.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: false });
    expect(r.json.outcome).toMatch(/fetch failed|ECONNREFUSED|no answer/);
  });

  it("defaults to the current version, refuses one not installed, and takes no check from the caller", () => {
    expect(agent(["activate", ...S(), "web", "2.0"]).code).toBe(0);
    expect(agent(["health", ...S(), "web"]).json).toMatchObject({ version: "2.0", ran: true, ok: true });
    const missing = agent(["health", ...S(), "web", "9.9"]);
    expect(missing.code).toBe(1);
    expect(missing.json.error).toMatchObject({ code: "NOT_FOUND", step: "health" });
    expect(missing.json.error.message).toContain("web 9.9 is not installed");
    // A check offered on the command line is not the signed one and is not run (/bin/false would fail).
    const smuggled = agent(["health", ...S(), "web", "2.0", "--health-check", '{"type":"exec","argv":["/bin/false"],"timeoutMs":1000}']);
    expect(smuggled.json).toMatchObject({ version: "2.0", ran: true, ok: true, outcome: "exit 0" });
  });
});
