// Enrollment and refresh against real lab hosts (sshd in network namespaces, btrfs store, the real
// agent): fingerprints fetched and pinned, facts recorded, a release installed by hand on a host
// with the agent CLI shows up after the next refresh and in history, and a host whose link is
// dropped is marked unreachable with its last state kept, then recovers.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import {
  inventoryPath,
  labDown,
  labExec,
  labFault,
  labRekey,
  labUp,
  type LabInventory,
} from "@/infra/lab/api";
import { createDb } from "@/server/db";
import { DEFAULT_AGENT_PATH } from "@/server/ssh";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { fetchHostKey } from "./hosts/fetch-host-key";
import { importHosts } from "./hosts/import-hosts";
import { parseLabInventory } from "./hosts/parse-import";
import { repinHostKey } from "./hosts/repin-host-key";
import { getHostDetail } from "./get-host-detail";
import { listHosts } from "./list-hosts";
import { refreshHosts } from "./refresh-hosts";
import { createInventorySsh } from "./ssh-adapter";

const LAB = "inv" + randomBytes(3).toString("hex");

describe("inventory against lab hosts", () => {
  let inv: LabInventory;
  let t: TestDatabase;
  let db: PrismaClient;
  let ssh: ReturnType<typeof createInventorySsh>;
  const newSsh = () =>
    createInventorySsh({
      privateKey: readFileSync(inv.consoleKey.privateKeyPath!, "utf8"),
      limits: { connectAttempts: 1, keepaliveIntervalMs: 1000, keepaliveCountMax: 2, connectTimeoutMs: 4000 },
      timeoutMs: 30_000,
    });

  beforeAll(async () => {
    inv = await labUp({ lab: LAB, count: 3 });
    t = await createTestDatabase();
    db = createDb(t.url);
    ssh = newSsh();
  }, 600_000);
  afterAll(async () => {
    await ssh?.close();
    await db?.$disconnect();
    await t?.drop();
    await labDown(LAB);
  }, 300_000);

  it("enrolls one host by fetched + accepted fingerprint and the rest from the lab inventory, with facts", async () => {
    const h0 = inv.hosts[0]!;
    const key = await fetchHostKey({ db, ssh }, { address: h0.address, port: h0.port });
    expect(key.fingerprint).toBe(h0.hostKeyFingerprint);
    const r = await enrollHost(
      { db, ssh },
      {
        actorId: null,
        name: h0.name,
        address: h0.address,
        port: h0.port,
        user: h0.user,
        acceptedFingerprint: key.fingerprint,
        labels: { role: "web" },
        refresh: true,
      },
    );
    expect(r.refresh).toMatchObject({ status: "ok" });

    const imported = await importHosts(
      { db },
      {
        actorId: null,
        entries: parseLabInventory(readFileSync(inventoryPath(LAB), "utf8")).entries,
        source: "lab",
      },
    );
    expect(imported.outcomes.map((o) => o.status).sort()).toEqual(["enrolled", "enrolled", "exists"]);
    const all = await refreshHosts({ db, ssh }, { all: true });
    expect(all).toMatchObject({ total: 3, ok: 3 });

    const d = await getHostDetail({ db }, { id: r.id });
    expect(d).toMatchObject({
      reachable: true,
      arch: expect.any(String),
      kernel: expect.any(String),
      agentVersion: expect.any(String),
    });
    expect(d.os).toBeTruthy();
    expect(d.storeTotalBytes).toBeGreaterThan(0);
    expect((await listHosts({ db }, { filter: { labels: { lab: LAB } } })).total).toBe(2);
  });

  it("shows a release installed by hand with the agent CLI after the next refresh, and keeps it in history", async () => {
    const h0 = inv.hosts[0]!;
    const id = (await getHostDetail({ db }, { name: h0.name })).id;
    const before = new Date();
    const sh = async (script: string) => {
      const r = await labExec(LAB, h0.name, ["sh", "-c", script], { timeoutMs: 120_000 });
      expect(r.code, `${script}\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const agent = `node ${DEFAULT_AGENT_PATH}`;
    await sh(
      `rm -rf /tmp/kx && mkdir -p /tmp/kx/src /etc/keel/trusted.d && echo hello > /tmp/kx/src/index.html`,
    );
    await sh(
      `${agent} keygen --out /tmp/kx/keys --name hand >/dev/null && cp /tmp/kx/keys/hand.pub /etc/keel/trusted.d/hand.pub`,
    );
    const built = JSON.parse(
      await sh(
        `${agent} build --from /tmp/kx/src --app handmade --version 1.0 --key /tmp/kx/keys/hand.key --out /tmp/kx/out`,
      ),
    );
    await sh(
      `${agent} receive --manifest ${built.full.manifestPath} --stream ${built.full.streamPath} >/dev/null`,
    );
    await sh(`${agent} activate handmade 1.0 >/dev/null`);

    const r = await refreshHosts({ db, ssh }, { hostIds: [id] });
    expect(r.results[0]).toMatchObject({ status: "ok", changed: true });
    const d = await getHostDetail({ db }, { id });
    expect(d.apps.find((a) => a.app === "handmade")).toMatchObject({
      current: "1.0",
      versions: [expect.objectContaining({ version: "1.0", isCurrent: true })],
    });
    expect(d.events.map((e) => e.message)).toEqual(
      expect.arrayContaining(["handmade 1.0 installed", "handmade current (none) → 1.0"]),
    );
    // History: before the change the host had no such app; now it has.
    expect(
      (await getHostDetail({ db }, { id, at: before })).apps.find((a) => a.app === "handmade"),
    ).toBeUndefined();
    expect(
      await db.installedVersionHistory.count({ where: { hostId: id, app: "handmade", validTo: null } }),
    ).toBe(1);
    await sh(`rm -rf /tmp/kx`);
  });

  it("marks a host whose link is dropped unreachable, keeps its last state, and recovers", async () => {
    const h1 = inv.hosts[1]!;
    const id = (await getHostDetail({ db }, { name: h1.name })).id;
    const seen = (await getHostDetail({ db }, { id })).lastSeenAt;
    await labFault(LAB, h1.name, { kind: "drop" });
    try {
      const r = await refreshHosts({ db, ssh }, { hostIds: [id] });
      expect(r.results[0]?.status).toBe("unreachable");
      const d = await getHostDetail({ db }, { id });
      expect(d).toMatchObject({ reachable: false, lastSeenAt: seen });
      expect(d.lastError).toBeTruthy();
      expect(d.os).toBeTruthy(); // last known facts kept
      expect(d.events[0]?.kind).toBe("host.unreachable");
    } finally {
      await labFault(LAB, h1.name, { kind: "restore" });
    }
    const back = await refreshHosts({ db, ssh }, { hostIds: [id] });
    expect(back.results[0]?.status).toBe("ok");
    const d = await getHostDetail({ db }, { id });
    expect(d).toMatchObject({ reachable: true, lastError: null });
    expect(d.events[0]?.kind).toBe("host.reachable");
  });
  it("a host whose key changed is re-pinned after the admin confirms the new fingerprint, keeping its id and history", async () => {
    const h2 = inv.hosts[2]!;
    const before = await getHostDetail({ db }, { name: h2.name });
    const { fingerprint } = await labRekey(LAB, h2.name);
    // Connections made before the re-key stay authenticated; a console started afresh meets the new key.
    await ssh.close();
    ssh = newSsh();
    const r = await refreshHosts({ db, ssh }, { hostIds: [before.id] });
    expect(r.results[0]?.status).toBe("key-changed");
    expect(await getHostDetail({ db }, { id: before.id })).toMatchObject({
      hostKeyChanged: true,
      presentedKeyFingerprint: fingerprint,
    });

    // A fingerprint the host does not present is refused and changes nothing.
    await expect(
      repinHostKey(
        { db, ssh },
        { actorId: null, id: before.id, acceptedFingerprint: before.hostKeyFingerprint },
      ),
    ).rejects.toThrow(
      new RegExp(
        `${h2.name} presents ${fingerprint.replace(/[+/]/g, "\\$&")}, not the accepted .*nothing changed`,
      ),
    );
    expect((await getHostDetail({ db }, { id: before.id })).hostKeyChanged).toBe(true);

    await repinHostKey({ db, ssh }, { actorId: null, id: before.id, acceptedFingerprint: fingerprint });
    const back = await refreshHosts({ db, ssh }, { hostIds: [before.id] });
    expect(back.results[0]?.status).toBe("ok");
    const after = await getHostDetail({ db }, { id: before.id });
    expect(after).toMatchObject({
      id: before.id,
      hostKeyFingerprint: fingerprint,
      hostKeyChanged: false,
      reachable: true,
    });
    expect(after.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["host.repinned", "host.enrolled"]),
    );
    expect(after.apps.map((a) => a.app)).toEqual(before.apps.map((a) => a.app));
  });
});
