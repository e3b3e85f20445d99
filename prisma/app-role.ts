// The console's two database roles (docs/audit.md, decision 0016): migrations run as the owner
// of the tables; the console and its workers connect as an "app" role that may read and write
// every table except that it can only INSERT and SELECT audit rows — no UPDATE, DELETE, TRUNCATE,
// and, not being the owner or a superuser, no ALTER TABLE and no switching the append-only
// trigger off. grantAppRole() is run by the migration runner after every migrate, so tables that
// later migrations create are covered too (plus default privileges for tables the owner creates
// outside migrations). findAppRoleProblems() says what a role could do to the audit log.
import type pg from "pg";

/** Tables the app role may read and append to, never change. */
const APPEND_ONLY = ["audit_events"];
/** Tables the app role may only read (the runner's own bookkeeping). */
const READ_ONLY = ["_prisma_migrations"];

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Grants `appRole` its rights on the `public` schema. Run as the owner, in the owner's session. */
export async function grantAppRole(client: pg.Client, appRole: string): Promise<void> {
  const app = ident(appRole);
  await client.query("BEGIN");
  try {
    await client.query(`GRANT USAGE ON SCHEMA public TO ${app}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${app}`);
    // TRUNCATE, REFERENCES and TRIGGER are never granted; UPDATE/DELETE are taken back here.
    for (const t of APPEND_ONLY)
      await client.query(`REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON ${ident(t)} FROM ${app}`);
    for (const t of READ_ONLY)
      await client.query(
        `REVOKE INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON ${ident(t)} FROM ${app}`,
      );
    // Tables the owner creates later outside this runner (a hand-made table, a test's scratch table).
    await client.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
    );
    await client.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${app}`,
    );
    // pg-boss (the rollout job queue) creates and owns its own schema `pgboss` as the app role.
    // A schema of its own cannot reach the owner's tables; the owner's sessions never search it.
    const { rows } = await client.query<{ can: boolean; owns: boolean }>(
      `SELECT has_database_privilege($1, current_database(), 'CREATE') AS can,
              (SELECT datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user) FROM pg_database WHERE datname = current_database()) AS owns`,
      [appRole],
    );
    if (!rows[0]!.can && rows[0]!.owns)
      await client.query(`GRANT CREATE ON DATABASE ${ident(await currentDatabase(client))} TO ${app}`);
    // PostgreSQL before 15 lets everyone create in `public`; take that back where the owner may.
    await client.query(`DO $$ BEGIN
      IF has_schema_privilege('public', 'public', 'CREATE') AND pg_has_role(current_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'USAGE')
      THEN REVOKE CREATE ON SCHEMA public FROM PUBLIC; END IF; END $$`);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw new Error(`granting the app role ${appRole} its rights failed: ${(e as Error).message}`);
  }
}

async function currentDatabase(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ db: string }>(`SELECT current_database() AS db`);
  return rows[0]!.db;
}

/**
 * What the role of this session could do to the audit log that the app role must not, one short
 * reason each (empty: the role is a proper app role). Checked by `npm start` before it trusts a
 * DATABASE_URL, so a console is never left running with rights that could rewrite its own log.
 */
export async function findAppRoleProblems(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{
    role: string;
    superuser: boolean;
    exists: boolean;
    owns: boolean;
    owner: string | null;
    update: boolean;
    delete: boolean;
    truncate: boolean;
    trigger: boolean;
    create_public: boolean;
    createrole: boolean;
    super_member: string | null;
  }>(`
    SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
           (SELECT string_agg(s.rolname, ', ') FROM pg_roles s
             WHERE s.rolsuper AND s.rolname <> current_user AND pg_has_role(current_user, s.oid, 'MEMBER')) AS super_member,
           t.oid IS NOT NULL AS exists,
           t.oid IS NOT NULL AND pg_has_role(current_user, t.relowner, 'MEMBER') AS owns,
           pg_get_userbyid(t.relowner) AS owner,
           t.oid IS NOT NULL AND has_table_privilege(t.oid, 'UPDATE') AS update,
           t.oid IS NOT NULL AND has_table_privilege(t.oid, 'DELETE') AS delete,
           t.oid IS NOT NULL AND has_table_privilege(t.oid, 'TRUNCATE') AS truncate,
           t.oid IS NOT NULL AND has_table_privilege(t.oid, 'TRIGGER') AS trigger,
           has_schema_privilege('public', 'CREATE') AS create_public
    FROM pg_roles r LEFT JOIN pg_class t ON t.oid = to_regclass('public.audit_events')
    WHERE r.rolname = current_user`);
  const r = rows[0]!;
  const problems: string[] = [];
  if (r.superuser) problems.push(`${r.role} is a superuser`);
  else if (r.super_member) problems.push(`${r.role} is a member of the superuser role ${r.super_member}`);
  else if (r.owns)
    problems.push(
      r.owner === r.role
        ? `${r.role} owns audit_events`
        : `${r.role} is a member of audit_events' owner ${r.owner}`,
    );
  else {
    const rights = (["update", "delete", "truncate", "trigger"] as const)
      .filter((k) => r[k])
      .map((k) => k.toUpperCase());
    if (rights.length) problems.push(`${r.role} has ${rights.join(", ")} on audit_events`);
    // Objects it could plant in `public` (a function overload, say) would run with the owner's rights in a migration.
    if (r.create_public) problems.push(`${r.role} may CREATE in schema public`);
    // It could make itself a member of the owner (any role before PostgreSQL 16, its own since).
    if (r.createrole) problems.push(`${r.role} has CREATEROLE`);
  }
  return problems;
}
