// Exports and the activation hook in keel-agent on a real btrfs store (decision 0022), through the
// CLI. The host's allow-list comes from agent.json next to the trusted keys directory — here the
// test's own, naming two scratch directories, so nothing touches the machine's /etc or /usr/local.
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agent, buildRelease, receiveArgs, storeArgs, testBench, writeTree, type Scratch } from "./helpers";

let s: Scratch;
let host: string;
let build: string;
let trusted: string;
let key: string;
let units: string;
let bin: string;
const S = () => storeArgs(host, trusted);

function release(
  version: string,
  activation: { onActivate?: object; exports?: object[] },
  files: Record<string, string> = {},
) {
  const src = s.dir(`src-${version}`);
  writeTree(src, {
    "a.conf": `a ${version}\n`,
    "b.conf": `b ${version}\n`,
    "bin/tool": `#!/bin/sh\necho ${version}\n`,
    ...files,
  });
  const extra: string[] = [];
  if (activation.onActivate) extra.push("--on-activate", JSON.stringify(activation.onActivate));
  if (activation.exports) extra.push("--export", JSON.stringify(activation.exports));
  const b = buildRelease(build, src, "web", version, key, s.dir(`out-${version}`), undefined, extra);
  const r = agent(receiveArgs(S(), b));
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

const current = () => readlinkSync(join(host, "apps/web/current"));

beforeAll(() => {
  ({ s, key, trusted } = testBench("activation"));
  chmodSync(s.root, 0o755);
  host = s.btrfs("host");
  build = s.btrfs("build");
  units = s.dir("units");
  bin = s.dir("bin");
  writeFileSync(join(dirname(trusted), "agent.json"), JSON.stringify({ exportDirs: [units, bin] }));
  release("1.0", {
    exports: [
      { from: "a.conf", dir: units },
      { from: "bin/tool", dir: bin },
    ],
  });
  release("2.0", {
    exports: [{ from: "a.conf", dir: units }],
    onActivate: {
      argv: ["/bin/sh", "-c", 'id -un; echo "restarting $KEEL_VERSION" >&2; exit 3'],
      timeoutMs: 10_000,
    },
  });
  release("3.0", { exports: [{ from: "b.conf", dir: units }] });
  release("4.0", { onActivate: { argv: ["sleep 30; echo $KEEL_APP"], shell: true, timeoutMs: 300 } });
}, 300_000);

afterAll(() => s?.cleanup());

describe("exports", () => {
  it("links each export through current, and facts report them", () => {
    expect(agent(["activate", ...S(), "web", "1.0"]).code).toBe(0);
    expect(readlinkSync(join(units, "a.conf"))).toBe(join(host, "apps/web/current/a.conf"));
    expect(readFileSync(join(bin, "tool"), "utf8")).toBe("#!/bin/sh\necho 1.0\n");
    const facts = agent(["facts", ...S()]).json;
    expect(facts.apps[0].exports).toEqual([
      { path: join(units, "a.conf"), target: join(host, "apps/web/current/a.conf") },
      { path: join(bin, "tool"), target: join(host, "apps/web/current/bin/tool") },
    ]);
  });

  it("switches with current, and removes a link the new version no longer declares", () => {
    expect(agent(["activate", ...S(), "web", "2.0"]).code).toBe(0);
    expect(readFileSync(join(units, "a.conf"), "utf8")).toBe("a 2.0\n");
    expect(existsSync(join(bin, "tool"))).toBe(false);
    expect(agent(["rollback", ...S(), "web"]).code).toBe(0);
    expect(readFileSync(join(bin, "tool"), "utf8")).toBe("#!/bin/sh\necho 1.0\n");
  });

  it("refuses a name that clashes with a file Keel does not own, before current moves", () => {
    writeFileSync(join(units, "b.conf"), "the admin's own\n");
    const r = agent(["activate", ...S(), "web", "3.0"]);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("EXPORT_REFUSED");
    expect(r.json.error.message).toBe(
      `web 3.0: export b.conf -> ${units}/b.conf refused: ${units}/b.conf exists and is not Keel's link for web; move it away first`,
    );
    expect(current()).toBe("1.0");
    expect(readFileSync(join(units, "b.conf"), "utf8")).toBe("the admin's own\n");
    expect(lstatSync(join(units, "a.conf")).isSymbolicLink()).toBe(true);
  });
});

describe("the hook command", () => {
  it("runs the installed manifest's onActivate as keel-check, without a shell, and reports exit code and stderr", () => {
    const r = agent(["hook", ...S(), "web", "2.0"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      app: "web",
      version: "2.0",
      ran: true,
      ok: false,
      outcome: "exit 3",
      exitCode: 3,
      stderrTail: "restarting 2.0",
      user: "keel-check",
    });
  });

  it("a version without onActivate runs nothing", () => {
    expect(agent(["hook", ...S(), "web", "1.0"]).json).toMatchObject({
      ran: false,
      ok: true,
      outcome: "no onActivate declared",
    });
  });

  it("shell: true goes through /bin/sh -c, and the timeout kills it", () => {
    const r = agent(["hook", ...S(), "web", "4.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: false, outcome: "killed after the 300 ms timeout" });
    expect(r.json.durationMs).toBeLessThan(5_000);
  });
});
