// The console's app role on a real PostgreSQL (as every integration test and `npm start` set it
// up): it appends and reads audit rows and works normally everywhere else, but cannot change,
// delete, truncate, alter or un-trigger the audit table; grants reach tables of later migrations.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDb } from "@/server/db";
import { appendAudit } from "@/server/services/audit/append-audit";
import { findAppRoleProblems } from "./app-role";
import { applyMigrations, MIGRATIONS_DIR } from "./migrate";

let t: TestDatabase;
const clients: pg.Client[] = [];
async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await t?.drop();
});

describe("the app role", () => {
  it("appends and reads audit rows, and uses the other tables normally", async () => {
    const db = createDb(t.url);
    try {
      await appendAudit(db, { actorId: null, action: "test.append", detail: { n: 1 } });
      expect(await db.auditEvent.count()).toBe(1);
      const g = await db.hostGroup.create({ data: { name: "g1", kind: "static" } });
      await db.hostGroup.update({ where: { id: g.id }, data: { name: "g2" } });
      await db.hostGroup.delete({ where: { id: g.id } });
    } finally {
      await db.$disconnect();
    }
  });

  it("cannot UPDATE, DELETE, TRUNCATE, ALTER, disable or drop the triggers of the audit table", async () => {
    const app = await connect(t.url);
    const refused = [
      `UPDATE audit_events SET action = 'x.y'`,
      `DELETE FROM audit_events`,
      `TRUNCATE audit_events`,
      `ALTER TABLE audit_events DISABLE TRIGGER USER`,
      `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`,
      `DROP TRIGGER audit_events_no_update_delete ON audit_events`,
      `ALTER TABLE audit_events ADD COLUMN x int`,
      `DROP TABLE audit_events`,
      `CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
      `SET session_replication_role = replica`,
      `CREATE FUNCTION lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT 1::text'`,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('x', 'x', 'x')`,
    ];
    for (const sql of refused)
      await expect(app.query(sql), sql).rejects.toThrow(/permission denied|must be owner/);
    expect(await findAppRoleProblems(app)).toEqual([]);
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM audit_events`);
    expect(rows[0].n).toBe(1);
  });

  it("names what the owner, a superuser and roles that can become either could do to the log", async () => {
    expect(await findAppRoleProblems(await connect(t.ownerUrl))).toEqual([
      "keel_test_owner owns audit_events",
    ]);
    expect(await findAppRoleProblems(await connect(t.superuserUrl))).toEqual(["postgres is a superuser"]);
    const su = await connect(t.superuserUrl);
    const n = randomBytes(3).toString("hex");
    // Membership without inheritance still lets a role SET ROLE to the owner or a superuser.
    await su.query(
      `CREATE ROLE m_${n} LOGIN PASSWORD 'pw'; GRANT keel_test_owner TO m_${n} WITH INHERIT FALSE`,
    );
    await su.query(`CREATE ROLE s_${n} LOGIN PASSWORD 'pw'; GRANT postgres TO s_${n} WITH INHERIT FALSE`);
    await su.query(`CREATE ROLE c_${n} LOGIN PASSWORD 'pw' CREATEROLE`);
    const as = (role: string) => {
      const u = new URL(t.url);
      u.username = role;
      u.password = "pw";
      return u.toString();
    };
    expect(await findAppRoleProblems(await connect(as(`m_${n}`)))).toEqual([
      `m_${n} is a member of audit_events' owner keel_test_owner`,
    ]);
    expect(await findAppRoleProblems(await connect(as(`s_${n}`)))).toEqual([
      `s_${n} is a member of the superuser role postgres`,
    ]);
    expect(await findAppRoleProblems(await connect(as(`c_${n}`)))).toEqual([`c_${n} has CREATEROLE`]);
  });

  it("gets its rights on tables a later migration creates, and on tables the owner makes by hand", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keel-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      mkdirSync(join(dir, "29991231000000_later"));
      writeFileSync(
        join(dir, "29991231000000_later", "migration.sql"),
        `CREATE TABLE later (id SERIAL PRIMARY KEY, v TEXT);`,
      );
      const r = await applyMigrations(t.ownerUrl, dir, { appRole: t.appRole });
      expect(r.applied).toEqual(["29991231000000_later"]);
      const owner = await connect(t.ownerUrl);
      await owner.query(`CREATE TABLE by_hand (v TEXT)`);
      const app = await connect(t.url);
      await app.query(`INSERT INTO later (v) VALUES ('a')`);
      await app.query(`UPDATE later SET v = 'b'`);
      await app.query(`INSERT INTO by_hand (v) VALUES ('a')`);
      await app.query(`DELETE FROM by_hand`);
      await expect(app.query(`ALTER TABLE later ADD COLUMN x int`)).rejects.toThrow(/must be owner/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
