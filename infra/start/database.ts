// The console's database for `npm start`: DATABASE_URL when set (checked up front, so an
// unreachable server stops start-up with one clear line), otherwise the embedded PostgreSQL
// with its data under the data directory.
import pg from "pg";
import { startEmbeddedPostgres } from "./postgres";

export class StartError extends Error {}

export type Database = { url: string; embedded: boolean; stop(): Promise<void> };

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
export async function checkDatabase(url: string, timeoutMs = 5_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (e) {
    const msg = (e as Error).message ?? "";
    const code = (e as { code?: string }).code ?? (/timeout/i.test(msg) ? "ETIMEDOUT" : undefined);
    throw new StartError(
      `cannot use the PostgreSQL at ${describeTarget(url)} from DATABASE_URL: ${explain({ ...(e as object), code, message: msg })}, or unset DATABASE_URL to use the embedded PostgreSQL.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; log: (s: string) => void }): Promise<Database> {
  if (opts.databaseUrl) {
    await checkDatabase(opts.databaseUrl);
    return { url: opts.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const server = await startEmbeddedPostgres({ dataDir: opts.dataDir });
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'keel'`);
    if (!rowCount) await admin.query(`CREATE DATABASE keel`);
    await admin.end();
  } catch (e) {
    await server.stop();
    throw e;
  }
  opts.log(`embedded PostgreSQL ${server.pgData} on 127.0.0.1:${server.port} (pid ${server.pid})`);
  return { url: server.urlFor("keel"), embedded: true, stop: () => server.stop() };
}
