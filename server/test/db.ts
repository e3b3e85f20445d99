// Gives an integration test its own freshly migrated database on the run's PostgreSQL.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import pg from "pg";
import { applyMigrations } from "../../prisma/migrate";

export type TestDatabase = { url: string; name: string; drop(): Promise<void> };

export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("pgUrl");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  if (opts.migrate !== false) await applyMigrations(url);
  return {
    url,
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
