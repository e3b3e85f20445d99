// The console's database for `npm start`: DATABASE_URL when set (checked up front, so an
// unreachable server stops start-up with one clear line), otherwise the embedded PostgreSQL
// with its data under the data directory. Either way the console runs as a role that cannot
// rewrite the audit log, and migrations as the tables' owner (docs/audit.md, decision 0016):
//   - embedded: roles keel_owner and keel_app are made and kept right (database-roles.ts);
//   - DATABASE_URL + DATABASE_OWNER_URL: the app role and the owner;
//   - DATABASE_URL alone: accepted only for a role without rights over the audit log, and only
//     when no migration is pending (it cannot apply one); otherwise start-up stops and says why.
import pg from "pg";
import { findAppRoleProblems } from "@/prisma/app-role";
import { pendingMigrations } from "@/prisma/migrate";
import { prepareDatabaseRoles } from "./database-roles";
import { startEmbeddedPostgres } from "./postgres";

export class StartError extends Error {}

export type Database = {
  /** The app role's URL: the console and its workers. */
  url: string;
  /** The owner's URL for the migrations, when there is one. */
  ownerUrl: string | null;
  /** The app role's name (what the migration runner grants rights to). */
  appRole: string;
  embedded: boolean;
  stop(): Promise<void>;
};

function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}

function explain(e: unknown): string {
  const err = e as { code?: string; message?: string };
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused: no PostgreSQL listens there. Start that server or fix the host and port in DATABASE_URL";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve. Fix the host in DATABASE_URL";
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "no answer (network or firewall). Check that the server is up and reachable from here";
    case "28P01":
    case "28000":
      return "the server refused the user name or password. Fix the credentials in DATABASE_URL";
    case "3D000":
      return "the database does not exist. Create it (createdb) or fix its name in DATABASE_URL";
    default:
      return `${err.message ?? String(e)}. Check DATABASE_URL`;
  }
}

/** Connects once to DATABASE_URL and throws a StartError with one line of advice when it cannot. */
export async function checkDatabase(url: string, timeoutMs = 5_000, name = "DATABASE_URL"): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (e) {
    const msg = (e as Error).message ?? "";
    const code = (e as { code?: string }).code ?? (/timeout/i.test(msg) ? "ETIMEDOUT" : undefined);
    const advice = explain({ ...(e as object), code, message: msg }).replaceAll("DATABASE_URL", name);
    throw new StartError(
      `cannot use the PostgreSQL at ${describeTarget(url)} from ${name}: ${advice}, or unset DATABASE_URL to use the embedded PostgreSQL.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

type Identity = { role: string; server: string; problems: string[] };

async function identify(url: string): Promise<Identity> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ role: string; server: string }>(
      `SELECT current_user AS role, current_database() || '@' || pg_postmaster_start_time()::text AS server`,
    );
    return { ...rows[0]!, problems: await findAppRoleProblems(c) };
  } finally {
    await c.end();
  }
}

/** DATABASE_URL (and DATABASE_OWNER_URL) of an external server, checked as the header says. */
async function openExternal(
  url: string,
  ownerUrl: string | undefined,
  log: (s: string) => void,
): Promise<Database> {
  await checkDatabase(url);
  if (ownerUrl) await checkDatabase(ownerUrl, 5_000, "DATABASE_OWNER_URL");
  const app = await identify(url);
  if (app.problems.length) {
    throw new StartError(
      `DATABASE_URL connects as ${app.role}, which could rewrite or delete audit rows (${app.problems.join("; ")}). ` +
        `Give the console a role of its own (CREATE ROLE keel_app LOGIN PASSWORD '…'), set DATABASE_URL to that role's URL and ` +
        `${ownerUrl ? "keep" : "set"} DATABASE_OWNER_URL to the tables' owner, which runs the migrations and grants keel_app its rights (docs/audit.md).`,
    );
  }
  if (ownerUrl) {
    const owner = await identify(ownerUrl);
    if (owner.server !== app.server)
      throw new StartError(
        `DATABASE_URL and DATABASE_OWNER_URL name different databases (${app.server} and ${owner.server}): point both at the console's database.`,
      );
    return { url, ownerUrl, appRole: app.role, embedded: false, stop: async () => undefined };
  }
  const pending = await pendingMigrations(url);
  if (pending.length) {
    throw new StartError(
      `${pending.length} database migration(s) are pending (${pending[0]}${pending.length > 1 ? ", …" : ""}) and DATABASE_URL's role ${app.role} may not apply them: ` +
        `set DATABASE_OWNER_URL to a URL of the tables' owner (docs/audit.md).`,
    );
  }
  log(
    `no DATABASE_OWNER_URL: the schema is up to date, migrations skipped; ${app.role}'s rights are not re-granted`,
  );
  return { url, ownerUrl: null, appRole: app.role, embedded: false, stop: async () => undefined };
}

export async function openDatabase(opts: {
  databaseUrl?: string;
  ownerUrl?: string;
  dataDir: string;
  log: (s: string) => void;
}): Promise<Database> {
  if (opts.databaseUrl) return openExternal(opts.databaseUrl, opts.ownerUrl, opts.log);
  if (opts.ownerUrl)
    throw new StartError(
      "DATABASE_OWNER_URL is set but DATABASE_URL is not: set DATABASE_URL to the console's (app) role on the same database, or unset both for the embedded PostgreSQL.",
    );
  const server = await startEmbeddedPostgres({ dataDir: opts.dataDir });
  let roles;
  try {
    roles = await prepareDatabaseRoles({ superUrl: server.url, dataDir: opts.dataDir });
  } catch (e) {
    await server.stop();
    throw e;
  }
  opts.log(
    `embedded PostgreSQL ${server.pgData} on 127.0.0.1:${server.port} (pid ${server.pid}), console connects as ${roles.appRole}`,
  );
  return { ...roles, embedded: true, stop: () => server.stop() };
}
