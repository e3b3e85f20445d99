// The production path to the agent, tested directly on a real lab host (infra/lab: sshd in a
// network namespace, btrfs store): openCheckedSession installs the console's bundle on first
// contact, a session answers several requests on one channel (the agent's own refusals leave it
// usable), the resident agent left behind is reused, and when it is gone or runs another bundle
// the session falls back to `serve` (uploading the bundle when the digest differs).
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labDown, labExec, labUp, type LabInventory } from "@/infra/lab/api";
import { DEFAULT_STORE, residentSocketPath } from "@/agent/protocol";
import { AgentCommandError } from "./agent-envelope";
import { loadAgentBundle, type AgentBundle } from "./agent-install";
import { runAgent } from "./agent-run";
import { AgentSession } from "./agent-session";
import { openCheckedSession } from "./checked-session";
import { connect } from "./connect";
import { type SshConnection } from "./connection";
import { type SshTarget } from "./target";

const LAB = "as" + randomBytes(3).toString("hex");
const RESIDENT_SECONDS = 120;
let inv: LabInventory;
let bundle: AgentBundle;
let conn: SshConnection;

/** Resident agents of the lab host (lab hosts share the machine's pid namespace, not its network one). */
async function residentPids(): Promise<string[]> {
  const script =
    'for p in $(pgrep -f "keel-agent [r]esident"); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done; true';
  return (await labExec(LAB, inv.hosts[0]!.name, ["sh", "-c", script])).stdout.split(/\s+/).filter(Boolean);
}

/** The digest the host's resident agent reports, or null when none answers. */
async function residentDigest(): Promise<string | null> {
  const r = await AgentSession.openResident(conn, { helloTimeoutMs: 2_000 });
  await r?.close();
  return r ? r.hello.agentSha256 : null;
}

beforeAll(async () => {
  inv = await labUp({ lab: LAB, count: 1 });
  bundle = await loadAgentBundle();
  const h = inv.hosts[0]!;
  const target: SshTarget = {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKey: readFileSync(inv.consoleKey.privateKeyPath!, "utf8"),
    pinnedFingerprint: h.hostKeyFingerprint,
  };
  conn = await connect(target);
}, 600_000);

afterAll(async () => {
  await conn?.close();
  if (inv) {
    const pids = await residentPids().catch(() => []);
    if (pids.length) await labExec(LAB, inv.hosts[0]!.name, ["kill", "-KILL", ...pids]);
    await labDown(LAB);
  }
}, 300_000);

describe("AgentSession on a lab host", () => {
  it("installs the bundle on first contact and answers several requests in one session", async () => {
    const opened = await openCheckedSession(conn, { bundle, residentSeconds: RESIDENT_SECONDS });
    expect(opened.resident).toBe(false);
    expect(opened.ensured?.action).toBe("uploaded");
    const s = opened.session;
    expect(s.hello.agentSha256).toBe(bundle.sha256);
    const facts = await s.request("facts", {});
    expect(facts.host.hostname).toBe(inv.hosts[0]!.name);
    expect(facts.agent.sha256).toBe(bundle.sha256);
    // The agent's own refusal is an AgentCommandError and the session stays usable.
    const refused = await s
      .request("activate", { app: "nothing-here", version: "1.0" })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AgentCommandError);
    expect((await s.request("version", {})).sha256).toBe(bundle.sha256);
    expect(s.log.map((l) => [l.command, l.ok])).toEqual([
      ["facts", true],
      ["activate", false],
      ["version", true],
    ]);
    await s.close();
    expect(s.isOpen).toBe(false);
    // `serve --resident` left a resident agent behind when the session ended.
    await expect.poll(residentPids, { timeout: 10_000 }).toHaveLength(1);
  });

  it("reuses the resident agent: nothing is started on the host", async () => {
    const [pid] = await residentPids();
    const opened = await openCheckedSession(conn, { bundle, residentSeconds: RESIDENT_SECONDS });
    expect(opened.resident).toBe(true);
    expect(opened.ensured).toBeNull();
    expect(String(opened.session.hello.pid)).toBe(pid);
    expect((await opened.session.request("facts", {})).agent.sha256).toBe(bundle.sha256);
    await opened.session.close();
    expect(await residentPids()).toEqual([pid]);
  });

  it("falls back to serve when the resident agent is gone, and leaves a new one", async () => {
    const before = await residentPids();
    await labExec(LAB, inv.hosts[0]!.name, ["kill", "-KILL", ...before]);
    // Its socket file is still there, but nobody answers on it.
    expect(
      (await labExec(LAB, inv.hosts[0]!.name, ["test", "-S", residentSocketPath(DEFAULT_STORE)])).code,
    ).toBe(0);
    const opened = await openCheckedSession(conn, { bundle, residentSeconds: RESIDENT_SECONDS });
    expect(opened.resident).toBe(false);
    expect(opened.ensured).toBeNull();
    expect((await opened.session.request("facts", {})).agent.sha256).toBe(bundle.sha256);
    await opened.session.close();
    await expect.poll(residentPids, { timeout: 10_000 }).toHaveLength(1);
    expect(await residentPids()).not.toEqual(before);
  });

  it("does not use a resident agent that runs another bundle: the console's is installed and served", async () => {
    const bytes = Buffer.concat([bundle.bytes, Buffer.from("\n// another build\n")]);
    const other: AgentBundle = {
      path: bundle.path,
      bytes,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
    expect(await residentDigest()).toBe(bundle.sha256);
    const opened = await openCheckedSession(conn, { bundle: other, residentSeconds: RESIDENT_SECONDS });
    expect(opened.resident).toBe(false);
    expect(opened.ensured).toMatchObject({
      action: "uploaded",
      previousSha256: bundle.sha256,
      sha256: other.sha256,
    });
    expect(opened.session.hello.agentSha256).toBe(other.sha256);
    expect((await opened.session.request("facts", {})).agent.sha256).toBe(other.sha256);
    await opened.session.close();
    // The stale resident agent notices its file changed and exits by itself.
    await expect.poll(residentDigest, { timeout: 15_000 }).not.toBe(bundle.sha256);

    // And back: the one-shot call is a session too, and sees the reinstalled bundle.
    const back = await openCheckedSession(conn, { bundle, residentSeconds: RESIDENT_SECONDS });
    expect(back.ensured?.action).toBe("uploaded");
    await back.session.close();
    expect((await runAgent(conn, "version", {})).sha256).toBe(bundle.sha256);
  });
});
