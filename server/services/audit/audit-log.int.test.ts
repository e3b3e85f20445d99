// The audit log on a real PostgreSQL: append-only whoever asks, hash-chained, safe under
// concurrent appends, and tampering by someone who can switch the trigger off (a superuser) is caught.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDb } from "@/server/db";
import { appendAudit, deferAudit, flushAudit } from "./append-audit";
import { verifyAuditChain } from "./verify-audit-chain";
import { listAuditEvents } from "./list-audit-events";

let t: TestDatabase;
let db: PrismaClient;
let db2: PrismaClient;
let sql: pg.Client;
let su: pg.Client;

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  db2 = createDb(t.url);
  sql = new pg.Client({ connectionString: t.url });
  await sql.connect();
  su = new pg.Client({ connectionString: t.superuserUrl });
  await su.connect();
});
afterAll(async () => {
  await sql?.end();
  await su?.end();
  await db?.$disconnect();
  await db2?.$disconnect();
  await t?.drop();
});

describe("audit log", () => {
  it("keeps a valid chain under 60 concurrent appends from two clients", async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        appendAudit(i % 2 ? db : db2, {
          actorId: null,
          action: "test.append",
          target: `n:${i}`,
          detail: { i, nested: { b: 1, a: [1, "x"] } },
        }),
      ),
    );
    const report = await verifyAuditChain({ db });
    expect(report).toMatchObject({ ok: true, rows: 60 });
  });

  it("writes deferred appends at the flush, numbered, chained and notified as appends one by one", async () => {
    const t2 = await createTestDatabase();
    const d = createDb(t2.url);
    const d2 = createDb(t2.url);
    const listen = new pg.Client({ connectionString: t2.url });
    await listen.connect();
    const heard: string[] = [];
    listen.on("notification", (n) => heard.push(n.payload ?? ""));
    await listen.query("LISTEN keel_audit");
    try {
      const batch = (k: number) =>
        d.$transaction(async (tx) => {
          deferAudit(tx);
          for (const action of ["test.one", "rollout.host_step", "test.two"])
            await appendAudit(tx, {
              actorId: null,
              action,
              target: `b:${k}`,
              detail: { k, z: { y: 1, x: [2] } },
            });
          const [seen] = await tx.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_events
            WHERE target = ${`b:${k}`}`;
          expect(seen!.n).toBe(0);
          await flushAudit(tx);
          // After the flush the transaction holds the chain: a further append goes on at once.
          await appendAudit(tx, { actorId: null, action: "test.after", target: `b:${k}` });
        });
      await Promise.all([
        ...Array.from({ length: 6 }, (_, k) => batch(k)),
        ...Array.from({ length: 12 }, (_, i) =>
          appendAudit(d2, { actorId: null, action: "test.single", detail: { i } }),
        ),
      ]);
      expect(await verifyAuditChain({ db: d })).toMatchObject({ ok: true, rows: 36 });
      const rows = await d.auditEvent.findMany({ orderBy: { id: "asc" } });
      for (let k = 0; k < 6; k++) {
        const mine = rows.filter((r) => r.target === `b:${k}`);
        expect(mine.map((r) => r.action)).toEqual([
          "test.one",
          "rollout.host_step",
          "test.two",
          "test.after",
        ]);
        expect(mine.map((r) => Number(r.id - mine[0]!.id))).toEqual([0, 1, 2, 3]);
      }
      await new Promise((r) => setTimeout(r, 200));
      // The checkpoint trigger fires per row as before (a rollout step's event wakes nobody).
      expect(heard.filter((h) => h === "test.one")).toHaveLength(6);
      expect(heard.filter((h) => h === "rollout.host_step")).toHaveLength(0);
    } finally {
      await listen.end();
      await d.$disconnect();
      await d2.$disconnect();
      await t2.drop();
    }
  });

  it("refuses UPDATE, DELETE and TRUNCATE from the application's connection, and from the owner's (trigger)", async () => {
    await expect(sql.query(`UPDATE audit_events SET action = 'x.y' WHERE id = 1`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(sql.query(`DELETE FROM audit_events WHERE id = 1`)).rejects.toThrow(/permission denied/);
    await expect(sql.query(`TRUNCATE audit_events`)).rejects.toThrow(/permission denied/);
    await expect(db.auditEvent.deleteMany({})).rejects.toThrow();
    const owner = new pg.Client({ connectionString: t.ownerUrl });
    await owner.connect();
    try {
      await expect(owner.query(`UPDATE audit_events SET action = 'x.y' WHERE id = 1`)).rejects.toThrow(
        /append-only/,
      );
      await expect(owner.query(`DELETE FROM audit_events WHERE id = 1`)).rejects.toThrow(/append-only/);
      await expect(owner.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    } finally {
      await owner.end();
    }
    expect(await db.auditEvent.count()).toBe(60);
  });

  it("filters by actor, action, target and time, and pages", async () => {
    await appendAudit(db, { actorId: null, action: "user.create", target: "user:ops@keel.local" });
    const byAction = await listAuditEvents({ db, filter: { action: "user." }, limit: 10 });
    expect(byAction.items.map((i) => i.target)).toEqual(["user:ops@keel.local"]);
    const byTarget = await listAuditEvents({ db, filter: { target: "n:1" }, limit: 100 });
    expect(byTarget.items.length).toBe(11); // n:1, n:10..n:19
    const page1 = await listAuditEvents({ db, filter: { action: "test.append" }, limit: 25 });
    const page2 = await listAuditEvents({
      db,
      filter: { action: "test.append" },
      limit: 25,
      cursor: page1.nextCursor!,
    });
    const page3 = await listAuditEvents({
      db,
      filter: { action: "test.append" },
      limit: 25,
      cursor: page2.nextCursor!,
    });
    expect(page1.items.length + page2.items.length + page3.items.length).toBe(60);
    expect(page3.nextCursor).toBeNull();
    const future = await listAuditEvents({ db, filter: { from: new Date(Date.now() + 60_000) }, limit: 10 });
    expect(future.items).toEqual([]);
  });

  it("names the first altered row when a superuser switches the trigger off and edits one", async () => {
    const victim = (await db.auditEvent.findMany({ orderBy: { id: "asc" }, skip: 9, take: 1 }))[0]!;
    await su.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
    await su.query(`UPDATE audit_events SET detail = '{"i": 999}' WHERE id = $1`, [victim.id.toString()]);
    await su.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
    const report = await verifyAuditChain({ db });
    expect(report.ok).toBe(false);
    if (!report.ok) {
      expect(report.brokenAt?.id).toBe(victim.id.toString());
      expect(report.brokenAt?.reason).toMatch(/altered/);
      expect(report.rows).toBe(9);
    }
  });

  it("names the row after a deleted one", async () => {
    const t2 = await createTestDatabase();
    const d = createDb(t2.url);
    try {
      for (let i = 0; i < 5; i++)
        await appendAudit(d, { actorId: null, action: "test.append", detail: { i } });
      const rows = await d.auditEvent.findMany({ orderBy: { id: "asc" } });
      const c = new pg.Client({ connectionString: t2.superuserUrl });
      await c.connect();
      await c.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
      await c.query(`DELETE FROM audit_events WHERE id = $1`, [rows[2]!.id.toString()]);
      await c.end();
      const report = await verifyAuditChain({ db: d });
      expect(report).toMatchObject({ ok: false, brokenAt: { id: rows[3]!.id.toString() } });
    } finally {
      await d.$disconnect();
      await t2.drop();
    }
  });
});
