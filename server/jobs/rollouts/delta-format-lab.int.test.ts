// Which delta goes on the wire (decision 0040), on real lab hosts (sshd in network namespaces, btrfs
// stores, keel-agent, the real SSH executor): the release step stores a format-2 delta beside the
// format-1 one; a rollout to current agents (they list keel-delta-c, decision 0044) sends the format-2
// one with its header compact; a delta recorded before format 2 goes as its format-1 delta, compact
// too; an agent whose hello lists keel-delta-2 but not keel-delta-c is sent keel-delta-2, one that
// lists neither the format-1 delta as keel-delta-1z, the agent reporting the bytes it received.
// Every host ends on the same signed stream.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUser } from "@/prisma/seed/fleet";
import { validateManifest } from "@/agent/protocol";
import { buildRelease } from "@/server/services/releases/build-release";
import { produceDelta } from "@/server/services/releases/produce-delta";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { connect, loadAgentBundle, openCheckedSession, receiveReleaseIn } from "@/server/ssh";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { setUpLabFleet, waitForRollout, type LabFleet } from "./test-support/lab-fleet";

const LAB = "df" + randomBytes(3).toString("hex");
let t: TestDatabase;
let fleet: LabFleet;
let operator: { id: string; roles: "operator"[] };
let src: string;

beforeAll(async () => {
  t = await createTestDatabase();
  fleet = await setUpLabFleet({ lab: LAB, count: 2, databaseUrl: t.url, environment: "dev" });
  operator = (await seedUser(fleet.db, "op@example.test", ["operator"])) as typeof operator;
  src = mkdtempSync(join(tmpdir(), "keel-df-src-"));
  mkdirSync(join(src, "bin"));
  writeFileSync(join(src, "bin", "app"), randomBytes(256 * 1024));
  writeFileSync(join(src, "data.bin"), Buffer.alloc(4 << 20, 7));
}, 900_000);

afterAll(async () => {
  await fleet?.teardown();
  await t?.drop();
  if (src) rmSync(src, { recursive: true, force: true });
}, 300_000);

/**
 * Builds `web` `v` (as the console does) from a tree whose 256 KiB "binary" changes as a relinked
 * one does: one byte in every 40 moves by one, so few 32-byte blocks of it match the parent exactly
 * (format 1: mostly literals) while its bytes mostly agree (format 2: DIFF ops from those seeds).
 */
async function build(v: string) {
  const bin = readFileSync(join(src, "bin", "app"));
  for (let i = 0; i < bin.length; i += 40) bin[i] = (bin[i]! + 1) & 0xff;
  writeFileSync(join(src, "bin", "app"), bin);
  writeFileSync(join(src, "VERSION"), `${v}\n`);
  return buildRelease(fleet.deps, { app: "web", version: v, source: { dir: src } });
}

async function roll(version: string) {
  const spec: TRolloutSpec = {
    action: "update",
    app: "web",
    version,
    targets: { environments: ["dev"] },
    waves: ["100%"],
    failureThreshold: 100,
    parallelism: 2,
  };
  const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec);
  await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
  const done = await waitForRollout(fleet.db, r.id);
  expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe("succeeded");
  return { ...done, plan: r.plan };
}

/** The delta row the release step recorded for `to` from `from`. */
const deltaRow = (from: string, to: string) =>
  fleet.db.releaseDelta.findFirstOrThrow({
    where: { release: { app: "web", version: to }, parent: { app: "web", version: from } },
  });

/** The wire-form cache file (`.wire/`) made from the stored blob `digest`, with extension `ext`, if any. */
function wireFile(digest: string, ext: "kd2" | "kdz" | "kdc"): { path: string; bytes: number } | null {
  const blob = fleet.deps.store.localPath(digest)!;
  const dir = join(dirname(blob), ".wire");
  const name = (() => {
    try {
      return readdirSync(dir).find((n) => n.startsWith(`${basename(blob)}.`) && n.endsWith(`.${ext}`));
    } catch {
      return undefined;
    }
  })();
  return name ? { path: join(dir, name), bytes: statSync(join(dir, name)).size } : null;
}

describe("the delta format on the wire (lab hosts)", () => {
  it("stores a format-2 delta beside the format-1 one and rolls it out as keel-delta-c to agents that list it", async () => {
    await build("1.0");
    await roll("1.0");
    await build("2.0");
    const row = await deltaRow("1.0", "2.0");
    expect(row.encodedDigest).toBeTruthy();
    expect(row.encoded2Digest).toBeTruthy();
    expect(row.encoded2Digest).not.toBe(row.encodedDigest);
    // Format 2 is sent only when it is smaller: here by far (DIFFs instead of 256 KiB of literals).
    expect(Number(row.encoded2Bytes)).toBeLessThan(Number(row.encodedBytes) / 4);
    for (const [digest, bytes] of [
      [row.encodedDigest!, row.encodedBytes!],
      [row.encoded2Digest!, row.encoded2Bytes!],
    ] as const) {
      expect((await fleet.deps.store.stat(digest))?.bytes).toBe(Number(bytes));
      expect(await fleet.db.artifact.count({ where: { digest } })).toBe(1);
    }

    const r = await roll("2.0");
    for (const h of r.plan.hosts) expect(h).toMatchObject({ stream: "delta", parent: "1.0" });
    // Decision 0044: the current agent lists keel-delta-c (the header compact).
    const kdc = wireFile(row.encoded2Digest!, "kdc");
    expect(kdc, "the keel-delta-c form was made once, in the wire cache").not.toBeNull();
    expect(wireFile(row.encoded2Digest!, "kd2"), "no keel-delta-2 form was needed").toBeNull();
    expect(wireFile(row.encodedDigest!, "kdz"), "no keel-delta-1z form was needed").toBeNull();
    // What each host was sent, byte for byte: the keel-delta-c form of the format-2 delta.
    for (const h of r.hosts) expect(Number(h.bytesSent)).toBe(kdc!.bytes);
    for (const h of fleet.inv.hosts)
      expect(await fleet.onHost(h.name, "web")).toEqual({ current: "2.0", previous: "1.0" });
  });

  it("sends a delta recorded before format 2 (no format-2 columns) as its format-1 delta (keel-delta-c)", async () => {
    await build("3.0");
    const row = await deltaRow("2.0", "3.0");
    expect(row.encoded2Digest).toBeTruthy();
    // As a row written before the format-2 columns existed.
    await fleet.db.releaseDelta.update({
      where: { id: row.id },
      data: { encoded2Digest: null, encoded2Bytes: null },
    });
    const r = await roll("3.0");
    for (const h of r.plan.hosts) expect(h).toMatchObject({ stream: "delta", parent: "2.0" });
    const kdc = wireFile(row.encodedDigest!, "kdc");
    expect(kdc).not.toBeNull();
    expect(wireFile(row.encoded2Digest!, "kd2")).toBeNull();
    expect(wireFile(row.encoded2Digest!, "kdc")).toBeNull();
    for (const h of r.hosts) expect(Number(h.bytesSent)).toBe(kdc!.bytes);
    for (const h of fleet.inv.hosts)
      expect(await fleet.onHost(h.name, "web")).toEqual({ current: "3.0", previous: "2.0" });
  });

  it("sends the format-1 delta to an agent whose hello does not list keel-delta-2; both hosts get the same signed stream", async () => {
    await build("4.0");
    const row = await deltaRow("3.0", "4.0");
    const manifest = validateManifest(JSON.parse(row.manifest));
    const stored = {
      path: fleet.deps.store.localPath(row.encodedDigest!)!,
      format2: async () => fleet.deps.store.localPath(row.encoded2Digest!)!,
    };
    const bundle = await loadAgentBundle();
    const results = [];
    for (const [i, older] of [
      [0, true],
      [1, false],
    ] as const) {
      const h = fleet.inv.hosts[i]!;
      const conn = await connect({
        name: h.name,
        address: h.address,
        port: h.port,
        user: h.user,
        privateKey: fleet.privateKey,
        pinnedFingerprint: h.hostKeyFingerprint,
      });
      try {
        const { session } = await openCheckedSession(conn, { bundle, residentSeconds: 0 });
        expect(session.hello.wire).toContain("keel-delta-2");
        // The hello of an agent from before format 2 (decision 0030's list), and of one from before
        // the compact header (decision 0040's list).
        session.hello.wire = session.hello.wire.filter(
          (w) => w !== "keel-delta-c" && (!older || w !== "keel-delta-2"),
        );
        results.push(await receiveReleaseIn(session, { manifest, wireEncoding: "keel-delta-1" }, stored));
        await session.close();
      } finally {
        await conn.close();
      }
    }
    const kdz = wireFile(row.encodedDigest!, "kdz")!;
    const kd2 = wireFile(row.encoded2Digest!, "kd2")!;
    expect(kd2.bytes).not.toBe(kdz.bytes);
    // What each agent reports it received on the wire, and that it verified the same signed stream.
    expect(results.map((r) => r.wireBytes)).toEqual([kdz.bytes, kd2.bytes]);
    for (const r of results)
      expect(r).toMatchObject({ app: "web", version: "4.0", streamBytes: manifest.stream.bytes });
    expect(results[0]!.receivedUuid).toBe(results[1]!.receivedUuid);
  });

  it("sends the format-1 delta when the format-2 one is not smaller", async () => {
    // Which encoding is smaller depends on the change (a one-byte change can cost format 2 a few
    // bytes more); here the row names a larger stored blob as its format 2 (the release's full stream).
    // The console's inventory has the hosts on 3.0 (the receives above were not recorded): the plan
    // takes 3.0 → 5.0, made here as planning would.
    const built = await build("5.0");
    const parent = await fleet.db.release.findFirstOrThrow({ where: { app: "web", version: "3.0" } });
    const made = await produceDelta(fleet.deps, { parentId: parent.id, releaseId: built.id });
    const row = await fleet.db.releaseDelta.findUniqueOrThrow({ where: { id: made.id } });
    const release = await fleet.db.release.findUniqueOrThrow({ where: { id: built.id } });
    expect(Number(release.streamBytes)).toBeGreaterThan(Number(row.encodedBytes));
    await fleet.db.releaseDelta.update({
      where: { id: row.id },
      data: { encoded2Digest: release.streamDigest, encoded2Bytes: release.streamBytes },
    });
    const r = await roll("5.0");
    for (const h of r.plan.hosts) expect(h).toMatchObject({ stream: "delta", parent: "3.0" });
    const kdc = wireFile(row.encodedDigest!, "kdc");
    expect(kdc).not.toBeNull();
    for (const h of r.hosts) expect(Number(h.bytesSent)).toBe(kdc!.bytes);
    for (const h of fleet.inv.hosts) expect((await fleet.onHost(h.name, "web")).current).toBe("5.0");
  });
});
