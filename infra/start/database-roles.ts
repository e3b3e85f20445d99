// The embedded PostgreSQL's roles for `npm start` (docs/audit.md, decision 0016): the superuser
// (password in <data dir>/pg-password) only sets things up; `keel_owner` owns the `keel` database
// and its tables and runs the migrations; `keel_app` is what the console and its workers connect
// as (prisma/app-role.ts: no UPDATE/DELETE/TRUNCATE/ALTER on the audit log). Their passwords are
// generated once into the data dir (mode 600). A cluster made before the split (everything owned
// by the superuser) is adopted: the tables go to the owner, the job queue's schema to the app.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

export type DatabaseRoles = { url: string; ownerUrl: string; appRole: string };

function password(dataDir: string, file: string): string {
  const path = join(dataDir, file);
  if (!existsSync(path))
    writeFileSync(path, randomBytes(24).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

function urlAs(superUrl: string, user: string, pw: string, db: string): string {
  const u = new URL(superUrl);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(pw);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

async function ensureRole(c: pg.Client, role: string, pw: string): Promise<void> {
  const { rowCount } = await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]);
  // Every start re-asserts the attributes: a role someone made a superuser is made ordinary again.
  const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${c.escapeLiteral(pw)}`;
  await c.query(
    rowCount ? `ALTER ROLE ${ident(role)} WITH ${attrs}` : `CREATE ROLE ${ident(role)} WITH ${attrs}`,
  );
}

/** Gives every object in `schema` not owned by `owner` to `owner` (tables bring their indexes and serial sequences). */
async function adopt(c: pg.Client, schema: string, owner: string): Promise<void> {
  await c.query(`DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT c.oid::regclass AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ${c.escapeLiteral(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> ${c.escapeLiteral(owner)}::regrole LOOP
      EXECUTE format('ALTER TABLE %s OWNER TO %I', r.o, ${c.escapeLiteral(owner)});
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS o FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = ${c.escapeLiteral(schema)} AND t.typtype IN ('e', 'd') AND t.typowner <> ${c.escapeLiteral(owner)}::regrole LOOP
      EXECUTE format('ALTER TYPE %s OWNER TO %I', r.o, ${c.escapeLiteral(owner)});
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS o FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = ${c.escapeLiteral(schema)} AND p.proowner <> ${c.escapeLiteral(owner)}::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
      EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.o, ${c.escapeLiteral(owner)});
    END LOOP;
  END $$`);
}

/**
 * Creates or repairs the roles and the database on the embedded server (as its superuser) and
 * returns the app role's URL (`url`) and the owner's (`ownerUrl`, for migrations only).
 */
export async function prepareDatabaseRoles(opts: {
  superUrl: string;
  dataDir: string;
  database?: string;
  owner?: string;
  app?: string;
}): Promise<DatabaseRoles> {
  const { superUrl, dataDir, database = "keel", owner = "keel_owner", app = "keel_app" } = opts;
  const ownerPw = password(dataDir, `pg-owner-password`);
  const appPw = password(dataDir, `pg-app-password`);
  const c = new pg.Client({ connectionString: superUrl });
  await c.connect();
  try {
    await ensureRole(c, owner, ownerPw);
    await ensureRole(c, app, appPw);
    await c.query(`REVOKE ${ident(owner)} FROM ${ident(app)}`);
    const { rows } = await c.query<{ owner: string }>(
      `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`,
      [database],
    );
    if (!rows.length) await c.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(owner)}`);
    else if (rows[0]!.owner !== owner)
      await c.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(owner)}`);
    // No "$user" schema (which the app role, allowed to create schemas for pg-boss, could make) in anyone's path.
    await c.query(`ALTER DATABASE ${ident(database)} SET search_path TO public`);
  } finally {
    await c.end();
  }
  const d = new pg.Client({
    connectionString: urlAs(
      superUrl,
      decodeURIComponent(new URL(superUrl).username),
      decodeURIComponent(new URL(superUrl).password),
      database,
    ),
  });
  await d.connect();
  try {
    await d.query(`SET search_path TO pg_catalog`);
    await adopt(d, "public", owner);
    const { rows } = await d.query<{ owner: string }>(
      `SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'pgboss'`,
    );
    if (rows.length && rows[0]!.owner !== app) {
      await d.query(`ALTER SCHEMA pgboss OWNER TO ${ident(app)}`);
      await adopt(d, "pgboss", app);
    }
  } finally {
    await d.end();
  }
  return {
    url: urlAs(superUrl, app, appPw, database),
    ownerUrl: urlAs(superUrl, owner, ownerPw, database),
    appRole: app,
  };
}
