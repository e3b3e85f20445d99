// What `npm start` accepts as its database (infra/start/database.ts) on a real PostgreSQL:
// an external DATABASE_URL with rights over the audit log is refused with what to do, an app
// role alone is refused while migrations are pending, the two URLs together work; and a cluster
// made before the role split (everything owned by the superuser) is adopted by the embedded setup.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, inject, it } from "vitest";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { applyMigrations } from "@/prisma/migrate";
import { findAppRoleProblems } from "@/prisma/app-role";
import { createDb } from "@/server/db";
import { openQueue } from "@/server/jobs/rollouts/queue";
import { appendAudit } from "@/server/services/audit/append-audit";
import { openDatabase, StartError } from "./database";
import { prepareDatabaseRoles } from "./database-roles";
import { REPO } from "./next-app";

const dbs: TestDatabase[] = [];
const dirs: string[] = [];
const log = () => undefined;
afterAll(async () => {
  for (const t of dbs) await t.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(migrate: boolean): Promise<TestDatabase> {
  const t = await createTestDatabase({ migrate });
  dbs.push(t);
  return t;
}

describe("an external DATABASE_URL", () => {
  it("is refused when its role could rewrite the audit log, saying what to do", async () => {
    const t = await fresh(true);
    for (const url of [t.superuserUrl, t.ownerUrl]) {
      const e = await openDatabase({ databaseUrl: url, dataDir: "/nonexistent", log }).catch(
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(StartError);
      expect((e as Error).message).toMatch(
        /^DATABASE_URL connects as (postgres|keel_test_owner), which could rewrite or delete audit rows \((postgres is a superuser|keel_test_owner owns audit_events)\)/,
      );
      expect((e as Error).message).toMatch(/CREATE ROLE keel_app .* DATABASE_OWNER_URL/);
    }
  });

  it("alone as the app role: refused while migrations are pending, accepted once they are applied", async () => {
    const t = await fresh(false);
    await expect(openDatabase({ databaseUrl: t.url, dataDir: "/nonexistent", log })).rejects.toThrow(
      /migration\(s\) are pending .* set DATABASE_OWNER_URL/,
    );
    await applyMigrations(t.ownerUrl, undefined, { appRole: t.appRole });
    expect(await openDatabase({ databaseUrl: t.url, dataDir: "/nonexistent", log })).toMatchObject({
      url: t.url,
      ownerUrl: null,
      appRole: "keel_test_app",
    });
  });

  it("with DATABASE_OWNER_URL: the owner migrates, the app role is used; an owner URL alone is refused", async () => {
    const t = await fresh(false);
    expect(
      await openDatabase({ databaseUrl: t.url, ownerUrl: t.ownerUrl, dataDir: "/nonexistent", log }),
    ).toMatchObject({ url: t.url, ownerUrl: t.ownerUrl, appRole: "keel_test_app" });
    await expect(openDatabase({ ownerUrl: t.ownerUrl, dataDir: "/nonexistent", log })).rejects.toThrow(
      /DATABASE_OWNER_URL is set but DATABASE_URL is not/,
    );
  });
});

describe("npm run worker", () => {
  it("refuses a DATABASE_URL that could rewrite the audit log", async () => {
    const t = await fresh(true);
    const r = spawnSync(process.execPath, ["--import", "tsx", "server/jobs/main.ts"], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: t.ownerUrl },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^keel worker: DATABASE_URL could rewrite or delete audit rows \(keel_test_owner owns audit_events\): give the worker the console's app role URL/,
    );
  });
});

describe("the embedded setup", () => {
  it("adopts a database made before the role split: tables to the owner, the job queue to the app role", async () => {
    const t = await fresh(false);
    // The old way: migrations and pg-boss as the superuser.
    await applyMigrations(t.superuserUrl);
    const oldBoss = await openQueue(t.superuserUrl);
    await oldBoss.stop({ graceful: false, wait: true });
    const old = createDb(t.superuserUrl);
    await appendAudit(old, { actorId: null, action: "test.before_split" });
    await old.$disconnect();

    const dataDir = mkdtempSync(join(tmpdir(), "keel-roles-"));
    dirs.push(dataDir);
    const suffix = randomBytes(3).toString("hex");
    const roles = await prepareDatabaseRoles({
      superUrl: inject("pgUrl"),
      dataDir,
      database: t.name,
      owner: `o_${suffix}`,
      app: `a_${suffix}`,
    });
    await applyMigrations(roles.ownerUrl, undefined, { appRole: roles.appRole });

    const app = new pg.Client({ connectionString: roles.url });
    await app.connect();
    try {
      expect(await findAppRoleProblems(app)).toEqual([]);
      await expect(app.query(`DELETE FROM audit_events`)).rejects.toThrow(/permission denied/);
      const { rows } = await app.query(
        `SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'audit_events'::regclass`,
      );
      expect(rows[0].o).toBe(`o_${suffix}`);
    } finally {
      await app.end();
    }
    const boss = await openQueue(roles.url);
    await boss.send("rollout-host-step", { rolloutId: "r", hostId: "h", key: "k" });
    await boss.stop({ graceful: false, wait: true });
    const db = createDb(roles.url);
    await appendAudit(db, { actorId: null, action: "test.after_split" });
    expect(await db.auditEvent.count()).toBe(2);
    await db.$disconnect();
  });
});
