// The fleet simulator (SIMULATED hosts) against the console's real SSH client and agent session:
// the console's pinned-key check refuses a host that presents another key, the resident channel and
// `serve` both speak the protocol (hello with the digest, facts, a signed receive streamed as DATA
// frames, activate, rollback), every request is counted per host, a bad frame gets a protocol error,
// and the faults (failed commands, dropped connections) reach the console as a real host's would.
import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateSigningKey,
  parsePrivateKey,
  signManifest,
  type ReleaseManifest,
  type UnsignedManifest,
} from "@/agent/protocol";
import { AgentSession } from "@/server/ssh/agent-session";
import { openCheckedSession } from "@/server/ssh/checked-session";
import { connect } from "@/server/ssh/connect";
import type { AgentBundle } from "@/server/ssh/agent-install";
import type { SshTarget } from "@/server/ssh/target";
import { startSimFleet, type SimFleet } from "./sim-fleet";
import { NO_FAULTS } from "./sim-faults";
import { startSimFleetProcesses } from "./api";

const consoleKey = utils.generateKeyPairSync("ed25519");
const signing = generateSigningKey("sim-test");
const key = parsePrivateKey(signing.privateKeyPem);
const bundle: AgentBundle = { path: "/nonexistent", bytes: Buffer.from("x"), sha256: "b".repeat(64) };

function manifest(version: string, parent?: ReleaseManifest): ReleaseManifest {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const u: Omit<UnsignedManifest, "signer"> = {
    manifestVersion: 2,
    app: "web",
    version,
    kind: "app",
    created: "2026-12-07T10:00:00Z",
    tree: { files: 3, bytes: 42, sha256: sha(`tree ${version}`), metaSha256: sha(`meta ${version}`) },
    stream: {
      format: "btrfs-send",
      compression: "none",
      bytes: 100_000,
      sha256: sha(`stream ${version}`),
      chunkSize: 65536,
      chunks: [sha("c"), sha("d")],
      uuid: `af0956dc-782f-bd4d-946b-d5dd4583${version.replace(".", "").padStart(4, "0")}`,
    },
    ...(parent
      ? { parent: { version: parent.version, uuid: parent.stream.uuid!, treeSha256: parent.tree.sha256 } }
      : {}),
  } as Omit<UnsignedManifest, "signer">;
  return signManifest(u, key);
}

const v1 = manifest("1.0");
let fleet: SimFleet;
const target = (i: number, over: Partial<SshTarget> = {}): SshTarget => ({
  name: fleet.hosts[i]!.name,
  address: fleet.hosts[i]!.address,
  port: fleet.hosts[i]!.port,
  user: "root",
  privateKey: consoleKey.private,
  pinnedFingerprint: fleet.hosts[i]!.hostKeyFingerprint,
  sudo: false,
  forcedCommand: false,
  ...over,
});
const limits = { connectAttempts: 1 };

beforeAll(async () => {
  fleet = await startSimFleet({
    count: 3,
    authorizedKey: consoleKey.public,
    agentSha256: bundle.sha256,
    trustedKeys: [signing.publicKeyLine],
    initial: [v1],
  });
});
afterAll(() => fleet?.close());

describe("fleet simulator (simulated hosts)", () => {
  it("gives each host its own key, and the console refuses a host presenting another one than pinned", async () => {
    expect(new Set(fleet.hosts.map((h) => h.hostKeyFingerprint)).size).toBe(3);
    fleet.resetCounters();
    const wrong = target(0, { pinnedFingerprint: fleet.hosts[1]!.hostKeyFingerprint });
    await expect(connect(wrong, { limits })).rejects.toMatchObject({ code: "HOST_KEY_CHANGED" });
    const other = utils.generateKeyPairSync("ed25519");
    await expect(connect(target(0, { privateKey: other.private }), { limits })).rejects.toMatchObject({
      code: "AUTH_FAILED",
    });
    expect(fleet.report()[0]!.counters.requests).toBe(0);
  });

  it("answers a checked session on the resident channel: facts, a streamed receive, activate, rollback", async () => {
    fleet.resetCounters();
    const conn = await connect(target(0), { limits });
    try {
      const { session, resident } = await openCheckedSession(conn, { bundle, residentSeconds: 60 });
      expect(resident).toBe(true);
      expect(session.hello.agentSha256).toBe(bundle.sha256);
      // As a real agent: the signed receive request below goes compressed, and so do the answers.
      expect(session.hello.wire).toEqual(["json-z"]);
      const before = await session.request("facts", {});
      expect(before.apps).toMatchObject([{ app: "web", current: "1.0", previous: null }]);
      const v2 = manifest("2.0", v1);
      const stream = new PassThrough();
      stream.end(Buffer.alloc(300_000, 1)); // three DATA frames' worth and more
      const r = await session.request("receive", { manifest: v2, wireEncoding: "keel-delta-1" }, { stream });
      expect(r).toMatchObject({ version: "2.0", wireBytes: 300_000, alreadyInstalled: false });
      expect(await session.request("activate", { app: "web", version: "2.0" })).toMatchObject({
        current: "2.0",
        previous: "1.0",
        changed: true,
      });
      expect(await session.request("rollback", { app: "web" })).toMatchObject({ current: "1.0" });
      // An older version again without `rollback: true` is refused, as the real agent does.
      await expect(session.request("activate", { app: "web", version: "2.0" })).resolves.toMatchObject({
        changed: true,
      });
      await expect(session.request("activate", { app: "web", version: "1.0" })).rejects.toMatchObject({
        agentError: { code: "REPLAY_REFUSED" },
      });
      await session.close();
    } finally {
      await conn.close();
    }
    const c = fleet.report("web")[0]!;
    expect(c).toMatchObject({ current: "2.0", previous: "1.0" });
    expect(c.counters).toMatchObject({ received: 1, changed: 3, connections: 1 });
    expect(c.counters.byCommand).toMatchObject({ facts: 1, receive: 1, activate: 3, rollback: 1 });
  });

  it("refuses a release signed by a key the host does not trust, and serves `serve` over exec", async () => {
    const conn = await connect(target(1), { limits });
    try {
      const s = await AgentSession.open(conn);
      expect(s.hello.agentSha256).toBe(bundle.sha256);
      const rogue = signManifest(
        { ...v1, version: "3.0" },
        parsePrivateKey(generateSigningKey().privateKeyPem),
      );
      await expect(
        s.request("receive", { manifest: rogue }, { stream: new PassThrough() }),
      ).rejects.toMatchObject({ agentError: { code: "UNTRUSTED_KEY" } });
      await s.close();
      const ran = await conn.exec(["rm", "-rf", "/"], { step: "run-agent" });
      expect(ran.exitCode).toBe(127);
      expect(ran.stderr.toString()).toMatch(/simulated host/);
    } finally {
      await conn.close();
    }
  });

  it("injects failures and drops connections as configured", async () => {
    fleet.setFaults({ ...NO_FAULTS, failRate: 1 });
    let conn = await connect(target(2), { limits });
    const s = await AgentSession.open(conn);
    await expect(s.request("rollback", { app: "web" })).rejects.toMatchObject({
      agentError: { code: "IO_ERROR" },
    });
    await s.close();
    await conn.close();
    fleet.setFaults({ ...NO_FAULTS, lossRate: 1 });
    conn = await connect(target(2), { limits });
    const lost = await AgentSession.open(conn)
      .then(async (x) => {
        for (let i = 0; i < 4; i++) await x.request("facts", {});
        return null;
      })
      .catch((e: Error) => e);
    expect(lost).toBeInstanceOf(Error);
    await conn.close().catch(() => undefined);
    fleet.setFaults(NO_FAULTS);
    expect(fleet.report()[2]!.counters).toMatchObject({ injectedFailures: 1, dropped: 1 });
  });

  it("spreads hosts over child processes and reports their CPU", async () => {
    const p = await startSimFleetProcesses({
      count: 4,
      processes: 2,
      authorizedKey: consoleKey.public,
      agentSha256: bundle.sha256,
      trustedKeys: [signing.publicKeyLine],
    });
    try {
      expect(p.hosts.map((h) => h.name)).toEqual(["sim-00001", "sim-00002", "sim-00003", "sim-00004"]);
      const conn = await connect(
        { ...target(0), port: p.hosts[3]!.port, pinnedFingerprint: p.hosts[3]!.hostKeyFingerprint },
        { limits },
      );
      const s = await AgentSession.open(conn);
      expect((await s.request("facts", {})).host.hostname).toBe("sim-00004");
      await s.close();
      await conn.close();
      expect((await p.report()).map((r) => r.counters.requests)).toEqual([0, 0, 0, 1]);
      expect((await p.usage()).cpuMs).toBeGreaterThan(0);
    } finally {
      await p.close();
    }
  });
});
