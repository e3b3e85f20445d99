// The resident agent (agent/src/resident.ts): left behind by `serve --resident`, one per store, on
// a root-only socket, speaking serve's protocol; gone when idle, when its bundle file changes, and
// never two for one store. Runs a copy of the real bundle so that the copy can be changed.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, appendFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameDecoder, encodeJsonFrame, residentSocketPath } from "../protocol";
import { AGENT, buildAgent, scratch } from "./helpers";

const s = scratch("resident");
const started: number[] = [];
let bundle = "";

beforeAll(() => {
  buildAgent();
  bundle = join(s.dir("bin"), "keel-agent.mjs");
  copyFileSync(AGENT, bundle);
});

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  s.cleanup();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One session on the socket: hello, then each request's answer. */
function talk(
  sock: string,
  requests: object[],
): Promise<{ hello: { pid: number; agentSha256: string }; answers: { ok: boolean; result?: unknown }[] }> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    const d = new FrameDecoder();
    const got: { event?: string; ok?: boolean; pid?: number }[] = [];
    c.on("data", (b) => {
      for (const f of d.push(b)) if (f.kind === "json") got.push(f.value as never);
      if (got.filter((m) => m.ok !== undefined).length === requests.length) c.end();
    });
    c.on("error", reject);
    c.on("close", () =>
      resolve({ hello: got[0] as never, answers: got.filter((m) => m.ok !== undefined) as never }),
    );
    for (const r of requests) c.write(encodeJsonFrame(r));
  });
}

function serveOnce(store: string, extra: string[]): { status: number | null; stdout: string } {
  const r = spawnSync("node", [bundle, "serve", "--store", store, "--trusted", s.dir("trusted"), ...extra], {
    input: "",
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout };
}

describe("resident agent", () => {
  it("is left by serve --resident: one per store, root-only socket, the same protocol as serve", async () => {
    const store = s.dir("store-a");
    const sock = residentSocketPath(store);
    expect(serveOnce(store, ["--resident", "60"]).status).toBe(0);
    await expect.poll(() => existsSync(sock), { timeout: 5_000 }).toBe(true);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    expect(statSync(join(store, ".run")).mode & 0o777).toBe(0o700);

    const a = await talk(sock, [{ protocolVersion: 1, id: "f1", command: "facts", args: {} }]);
    started.push(a.hello.pid);
    expect(a.answers[0]).toMatchObject({ ok: true, result: { store: { backend: expect.any(String) } } });
    // A second serve --resident leaves no second one: the same process answers.
    expect(serveOnce(store, ["--resident", "60"]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const b = await talk(sock, [{ protocolVersion: 1, id: "v1", command: "version", args: {} }]);
    expect(b.hello.pid).toBe(a.hello.pid);
    expect(b.answers[0]?.ok).toBe(true);
    // Without --resident, serve leaves nothing (another store).
    const other = s.dir("store-b");
    expect(serveOnce(other, []).status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(residentSocketPath(other))).toBe(false);
  });

  it("exits and removes its socket when idle, and as soon as its bundle file changes", async () => {
    const store = s.dir("store-c");
    const sock = residentSocketPath(store);
    const idle = spawn(
      "node",
      [bundle, "resident", "--store", store, "--trusted", s.dir("trusted"), "--idle", "1"],
      { stdio: "ignore" },
    );
    started.push(idle.pid!);
    await expect.poll(() => existsSync(sock), { timeout: 5_000 }).toBe(true);
    const code = await new Promise((r) => idle.on("exit", r));
    expect(code).toBe(0);
    expect(existsSync(sock)).toBe(false);

    const long = spawn(
      "node",
      [bundle, "resident", "--store", store, "--trusted", s.dir("trusted"), "--idle", "600"],
      { stdio: "ignore" },
    );
    started.push(long.pid!);
    await expect.poll(() => existsSync(sock), { timeout: 5_000 }).toBe(true);
    const before = await talk(sock, []);
    expect(before.hello.pid).toBe(long.pid);
    appendFileSync(bundle, "\n// upgraded\n"); // an upgrade replaces the file the process runs from
    await expect.poll(() => alive(long.pid!), { timeout: 6_000 }).toBe(false);
    expect(existsSync(sock)).toBe(false);
  });

  it("refuses bad durations with a clear usage error", () => {
    const r = serveOnce(s.dir("store-d"), ["--resident", "forever"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("--resident: must be a number of seconds");
  });
});
