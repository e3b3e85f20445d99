import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildCommand } from "@/server/ssh/quote";

// The gate runs a stand-in agent that reports the argv and environment it got.
const dir = mkdtempSync(join(tmpdir(), "keel-forced-"));
const agent = join(dir, "keel-agent.mjs");
writeFileSync(
  agent,
  "process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: Object.keys(process.env).sort() }));\n",
);
const gate = join(__dirname, "keel-forced.mjs");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function viaGate(original: string | undefined, env: Record<string, string> = {}) {
  const e: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env };
  if (original !== undefined) e.SSH_ORIGINAL_COMMAND = original;
  return spawnSync(process.execPath, [gate, agent], { env: e as NodeJS.ProcessEnv, encoding: "utf8" });
}

describe("keel-forced gate", () => {
  it("runs the agent's serve for exactly the console's request, with a clean environment", () => {
    const r = viaGate(buildCommand(["node", agent, "serve"]), {
      KEEL_INJECTED: "1",
      BASH_ENV: "/tmp/evil.sh",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.argv).toEqual(["serve"]);
    expect(out.env).not.toContain("KEEL_INJECTED");
    expect(out.env).not.toContain("BASH_ENV");
    expect(out.env).not.toContain("SSH_ORIGINAL_COMMAND");
  });

  it.each([
    ["no command (interactive login)", undefined],
    ["another program", buildCommand(["sh", "-c", "id"])],
    ["another agent command", buildCommand(["node", agent, "receive"])],
    ["an extra argument", buildCommand(["node", agent, "serve", "--evil"])],
    ["an argument injected into the path", buildCommand(["node", `${agent} --inspect`, "serve"])],
    ["unquoted shell syntax", `node ${agent} serve; id`],
    ["command substitution", `'node' '${agent}' 'serve'$(id)`],
    ["a newline", `'node' '${agent}' 'serve'\nid`],
    ["a trailing space", `'node' '${agent}' 'serve' `],
    ["sudo with other options", buildCommand(["sudo", "-u", "root", "node", agent, "serve"])],
    ["a different node", buildCommand(["/tmp/node-evil", agent, "serve"])],
  ])("refuses %s", (_why, original) => {
    const r = viaGate(original);
    expect(r.status).toBe(126);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("keel-forced: refused");
  });
});
