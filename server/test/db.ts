// Gives an integration test its own freshly migrated database on the run's PostgreSQL, set up as
// `npm start` sets up the console's: owned by the owner role (migrations), used through the app
// role (`url`), which cannot change or delete audit rows (prisma/app-role.ts).
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import pg from "pg";
import { applyMigrations } from "@/prisma/migrate";

export type TestDatabase = {
  /** The app role's URL: what the console and its workers use. */
  url: string;
  /** The owner's URL: migrations, and DDL a test needs (its own scratch tables). */
  ownerUrl: string;
  /** A superuser's URL on this database: "someone with the database password". */
  superuserUrl: string;
  /** The app role's name. */
  appRole: string;
  name: string;
  drop(): Promise<void>;
};

function withUser(url: string, user: string, password: string, db: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  u.pathname = `/${db}`;
  return u.toString();
}

/** `migrate: false` leaves the database empty; migrate it with `applyMigrations(t.ownerUrl, undefined, { appRole: t.appRole })`. */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("pgUrl");
  const roles = inject("pgRoles");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} OWNER ${roles.owner}`);
  await admin.query(`ALTER DATABASE ${name} SET search_path TO public`);
  await admin.end();
  const superuserUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
  const ownerUrl = withUser(adminUrl, roles.owner, roles.ownerPassword, name);
  const url = withUser(adminUrl, roles.app, roles.appPassword, name);
  if (opts.migrate !== false) await applyMigrations(ownerUrl, undefined, { appRole: roles.app });
  return {
    url,
    ownerUrl,
    superuserUrl,
    appRole: roles.app,
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
