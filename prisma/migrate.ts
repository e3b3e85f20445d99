// Applies the SQL migrations in prisma/migrations (Prisma's folder format) and records them in
// Prisma's own `_prisma_migrations` table with Prisma's checksum, so that `prisma migrate deploy`
// sees the same history wherever Prisma's schema engine is available. Prisma's engine cannot be
// downloaded here; see docs/decisions/0002-prisma-offline.md. Safe to run concurrently (advisory lock).
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { grantAppRole } from "./app-role";

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));
const LOCK_KEY = 72_657_101; // arbitrary, Keel-wide advisory lock id for migrations

export type MigrationResult = { applied: string[]; skipped: string[] };

export function listMigrations(dir = MIGRATIONS_DIR): { name: string; sql: string; checksum: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Applies what is pending, as the role of `databaseUrl` (the owner of the tables). With `appRole`,
 * then grants that role the console's rights (prisma/app-role.ts) — after every run, so the tables
 * of new migrations are covered.
 */
export async function applyMigrations(
  databaseUrl: string,
  dir = MIGRATIONS_DIR,
  opts: { appRole?: string } = {},
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  const skipped: string[] = [];
  try {
    // Only `public`, as `prisma migrate deploy` does: never a schema the app role could create and
    // name after this role ("$user"), whose functions would then run with the owner's rights.
    await client.query("SET search_path TO public");
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    for (const m of listMigrations(dir)) {
      const had = done.get(m.name);
      if (had !== undefined) {
        if (had !== m.checksum)
          throw new Error(
            `migration ${m.name} was changed after it was applied: restore its original migration.sql and add a new migration instead`,
          );
        skipped.push(m.name);
        continue;
      }
      const id = randomUUID();
      await client.query("BEGIN");
      try {
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
          [id, m.checksum, m.name],
        );
        await client.query(m.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
      }
      applied.push(m.name);
    }
    if (opts.appRole) await grantAppRole(client, opts.appRole);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return { applied, skipped };
}

/** Names of the migrations not yet applied to `databaseUrl` (read-only; any role that may read `_prisma_migrations`). */
export async function pendingMigrations(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string | null }>(
      `SELECT to_regclass('public._prisma_migrations')::text AS name`,
    );
    const done = new Set<string>();
    if (rows[0]!.name) {
      const r = await client.query<{ migration_name: string }>(
        `SELECT migration_name FROM public."_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      for (const x of r.rows) done.add(x.migration_name);
    }
    return listMigrations(dir)
      .map((m) => m.name)
      .filter((n) => !done.has(n));
  } finally {
    await client.end();
  }
}
