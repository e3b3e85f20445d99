// The scheduled refresh against PostgreSQL: due hosts are claimed once per interval (two loops
// never take the same host), refreshed, and hosts with a changed key are left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import type { CollectedFacts, InventorySsh } from "@/server/services/inventory/types";
import { claimDueHosts, startInventoryRefreshLoop } from "./refresh-inventory";

const facts: CollectedFacts = {
  hostname: "h",
  machineId: null,
  os: "Debian",
  kernel: "6.1",
  arch: "x86_64",
  agentVersion: "0.1.0",
  cpuCount: 1,
  cpuModel: null,
  memoryBytes: 1,
  store: null,
  apps: [],
};

describe("scheduled inventory refresh", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const asked: string[] = [];
  const ssh: InventorySsh = {
    fetchHostKey: async () => ({ fingerprint: "x" }),
    collectFacts: async (h) => {
      asked.push(h.name);
      return facts;
    },
  };
  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    await db.host.createMany({
      data: Array.from({ length: 30 }, (_, i) => ({
        name: `h${i}`,
        address: `10.2.0.${i + 1}`,
        hostKeyFingerprint: "SHA256:" + "C".repeat(43),
        hostKeyChanged: i === 29,
      })),
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("claims each due host once, skips key-changed hosts, and refreshes what it claimed", async () => {
    const [a, b] = await Promise.all([
      claimDueHosts(db, { intervalMs: 3600_000, jitter: 0.2, batch: 20 }),
      claimDueHosts(db, { intervalMs: 3600_000, jitter: 0.2, batch: 20 }),
    ]);
    expect(a.length + b.length).toBe(29);
    expect(new Set([...a, ...b]).size).toBe(29);
    expect(await claimDueHosts(db, { intervalMs: 3600_000, jitter: 0.2, batch: 50 })).toEqual([]);
    // With a zero interval everything not flagged is due again; the loop refreshes it.
    const loop = startInventoryRefreshLoop({ db, ssh, intervalMs: 0, tickMs: 3600_000, batch: 100 });
    const r = await loop.tick();
    await loop.stop();
    expect(r).toMatchObject({ total: 29, ok: 29 });
    expect(asked).not.toContain("h29");
    expect(await db.host.count({ where: { reachable: true } })).toBe(29);
  });
});
