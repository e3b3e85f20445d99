// The rollout worker's node-postgres pool (createSqlPool, decision 0042) on a real PostgreSQL: the
// same statements give the same rows as through Prisma, parameters land as Prisma sends them, a
// transaction commits or rolls back as a whole, and the audit chain and a flagged host key written
// through it are what the Prisma path writes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDb, createSqlPool, type SqlClient, type SqlPool } from "@/server/db";
import { seedHosts, seedUser } from "@/prisma/seed/fleet";
import { appendAudit, deferAudit, flushAudit } from "@/server/services/audit/append-audit";
import { verifyAuditChain } from "@/server/services/audit/verify-audit-chain";
import { flagHostKeyChanged } from "@/server/services/inventory/record-refresh-failure";

let t: TestDatabase;
let db: PrismaClient;
let sql: SqlPool;

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  sql = createSqlPool(t.url, { max: 3 });
});
afterAll(async () => {
  await sql?.end();
  await db?.$disconnect();
  await t?.drop();
});

describe("createSqlPool", () => {
  it("returns the rows Prisma's $queryRaw returns for the same statement and fragments", async () => {
    const when = new Date("2026-12-06T20:01:02.345Z");
    const tail = Prisma.sql`, ${["b", "a"]}::text[] AS arr, ${when}::timestamptz AS at`;
    const q = (n: number) => Prisma.sql`
      SELECT ${n}::int AS i4, (${n}::bigint * 1000000000000) AS i8, count(*) AS n, true AS yes, NULL::text AS none,
        '{"k": [1, "x"]}'::jsonb AS doc, 1.5::float8 AS f ${tail}
      FROM generate_series(1, ${n}::int)`;
    const viaPrisma = await db.$queryRaw<Record<string, unknown>[]>(q(3));
    const viaPg = await sql.$queryRaw<Record<string, unknown>[]>(q(3));
    expect(viaPg).toEqual(viaPrisma);
    expect(viaPg[0]).toMatchObject({ i4: 3, i8: 3_000_000_000_000n, n: 3n, arr: ["b", "a"], at: when });
    // A tagged template too, and $executeRaw's count of rows.
    const v = "x";
    expect(await sql.$queryRaw`SELECT ${v} || 'y' AS s`).toEqual([{ s: "xy" }]);
    expect(await sql.$executeRaw`SELECT * FROM generate_series(1, ${4}::int)`).toBe(4);
  });

  it("commits a transaction's statements together and rolls all back when the callback throws", async () => {
    const [h] = await seedHosts(db, 1, { prefix: "tx" });
    const event = (tx: Parameters<Parameters<SqlPool["$transaction"]>[0]>[0], message: string) =>
      tx.$executeRaw`INSERT INTO host_events (host_id, at, kind, message) VALUES (${h!.id}::uuid, ${new Date()}, 'test.tx', ${message})`;
    await sql.$transaction(async (tx) => {
      await event(tx, "one");
      await event(tx, "two");
    });
    await expect(
      sql.$transaction(async (tx) => {
        await event(tx, "three");
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    const rows = await db.hostEvent.findMany({
      where: { hostId: h!.id, kind: "test.tx" },
      orderBy: { id: "asc" },
    });
    expect(rows.map((r) => r.message)).toEqual(["one", "two"]);
    // The connection went back to the pool clean: the next transaction sees no leftover.
    await sql.$transaction(async (tx) => event(tx, "four"));
    expect(await db.hostEvent.count({ where: { hostId: h!.id, kind: "test.tx" } })).toBe(3);
  });

  it("appends to the audit chain, at once and deferred, interleaved with Prisma, and the chain verifies", async () => {
    const u = await seedUser(db, "pool@example.test", ["operator"]);
    await appendAudit(sql, { actorId: u.id, action: "test.pool_now", detail: { n: 1 } });
    await appendAudit(db, { actorId: null, action: "test.prisma_now", detail: { n: 2 } });
    await sql.$transaction(async (tx) => {
      deferAudit(tx);
      for (let i = 0; i < 3; i++)
        await appendAudit(tx, { actorId: null, action: "test.pool_deferred", detail: { i } });
      await flushAudit(tx);
    });
    const rows = await db.auditEvent.findMany({
      where: { action: { startsWith: "test." } },
      orderBy: { id: "asc" },
    });
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ["test.pool_now", "pool@example.test"],
      ["test.prisma_now", null],
      ["test.pool_deferred", null],
      ["test.pool_deferred", null],
      ["test.pool_deferred", null],
    ]);
    expect(await verifyAuditChain({ db })).toMatchObject({ ok: true });
  });

  it("flags a changed host key through the pool as through Prisma", async () => {
    const [a, b] = await seedHosts(db, 2, { prefix: "key" });
    const at = new Date("2026-12-06T20:00:00.000Z");
    const flag = (on: SqlClient, h: { id: string; name: string }) =>
      on.$transaction((tx) =>
        flagHostKeyChanged(
          tx,
          { ...h, host_key_changed: false },
          { message: "another key", presentedFingerprint: "SHA256:x" },
          at,
        ),
      );
    const before = new Date();
    await flag(db, a!);
    await flag(sql, b!);
    const hosts = await db.host.findMany({ where: { id: { in: [a!.id, b!.id] } }, orderBy: { name: "asc" } });
    const pick = (h: (typeof hosts)[number]) => [h.hostKeyChanged, h.presentedKeyFingerprint, h.lastError];
    expect(pick(hosts[1]!)).toEqual(pick(hosts[0]!));
    expect(pick(hosts[1]!)).toEqual([true, "SHA256:x", "another key"]);
    for (const h of hosts) expect(h.updatedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    const events = await db.hostEvent.findMany({
      where: { hostId: { in: [a!.id, b!.id] }, kind: "host.key_changed" },
      select: { hostId: true, at: true, message: true, detail: true },
    });
    expect(events).toHaveLength(2);
    for (const e of events)
      expect(e).toMatchObject({ at, message: "another key", detail: { presented: "SHA256:x" } });
    const audit = await db.auditEvent.findMany({
      where: { action: "host.key_changed" },
      orderBy: { id: "asc" },
    });
    expect(audit.map((x) => x.target)).toEqual([`host:${a!.name}`, `host:${b!.name}`]);
    expect(await verifyAuditChain({ db })).toMatchObject({ ok: true });
  });
});
