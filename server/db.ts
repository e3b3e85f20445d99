// The Prisma client: `db` is the process-wide client for DATABASE_URL (created on first use);
// `createDb(url)` makes a separate one (tests, start-up). Prisma runs without its native engine
// (engineType "client") through the node-postgres driver adapter.
import { Prisma, PrismaClient } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { getEnv } from "./env";

export type Db = PrismaClient;

/** `max`: connections in this client's pool (default 10; the rollout worker takes more). */
export function createDb(url: string, opts: { max?: number } = {}): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: opts.max ?? 10 }),
    // Prisma's defaults (2 s to get a connection, 5 s to finish) fail whole bursts of writes that
    // queue behind one lock (the audit chain head); waiting a little longer is the right answer.
    transactionOptions: { maxWait: 15_000, timeout: 30_000 },
  });
}

const globalForDb = globalThis as unknown as { keelDb?: PrismaClient };

function theDb(): PrismaClient {
  if (globalForDb.keelDb) return globalForDb.keelDb;
  const url = getEnv().DATABASE_URL;
  if (!url)
    throw new Error("DATABASE_URL is not set: start the console with `npm start`, which provides a database");
  return (globalForDb.keelDb = createDb(url));
}

/** The shared client. A proxy so that importing this module does not need DATABASE_URL yet. */
export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_, prop) {
    const real = theDb();
    const value = Reflect.get(real, prop, real);
    return typeof value === "function" ? value.bind(real) : value;
  },
  has: (_, prop) => Reflect.has(theDb(), prop),
});

// ---------------------------------------------------------------------------------------------
// Raw SQL straight through node-postgres (decision 0042). The rollout worker's per-step statements
// are all raw SQL already; run through Prisma each cost its client, its query compiler and the
// driver adapter on top of node-postgres. `createSqlPool` runs the same statements — the same
// tagged templates and `Prisma.sql` fragments, the same interactive transactions — on a pool of
// its own, so code written against `Sql`/`SqlClient` runs unchanged on either.

/** What a statement needs: Prisma's raw tagged templates (a PrismaClient or a transaction has them). */
export interface Sql {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<number>;
}

/** Sql that can also open a transaction (a PrismaClient, or a SqlPool). */
export interface SqlClient extends Sql {
  $transaction<R>(fn: (tx: Sql) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

export interface SqlPool extends SqlClient {
  /** Closes the pool's connections. */
  end(): Promise<void>;
}

/** The statement's text ($1, $2 …) and its values as Prisma's raw queries send them. */
function statement(
  query: TemplateStringsArray | Prisma.Sql,
  values: unknown[],
): { text: string; values: unknown[] } {
  // A template's strings are an array; a fragment (Prisma.sql, join, raw) is an object.
  const s = Array.isArray(query)
    ? Prisma.sql(query as TemplateStringsArray, ...values)
    : (query as Prisma.Sql);
  return { text: s.text, values: s.values.map(param) };
}

/** Dates as UTC ISO strings and bigints as text, as Prisma sends them; the rest as node-postgres does. */
function param(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** Results typed as Prisma's raw queries type them: int8 as bigint (node-postgres: text). */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (s: string) => BigInt(s)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function sqlOn(run: (text: string, values: unknown[]) => Promise<pg.QueryResult>): Sql {
  return {
    async $queryRaw<T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) {
      const s = statement(query, values);
      return (await run(s.text, s.values)).rows as T;
    },
    async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) {
      const s = statement(query, values);
      return (await run(s.text, s.values)).rowCount ?? 0;
    },
  };
}

/**
 * A pool of `max` connections to `url` whose `$queryRaw`, `$executeRaw` and `$transaction` run on
 * node-postgres alone. A transaction is BEGIN, the callback's statements on one connection, then
 * COMMIT — or ROLLBACK when the callback throws (the error is rethrown). Waiting longer than 15 s for
 * a connection fails (Prisma's maxWait as createDb sets it); a transaction still open after
 * `timeout` (default 30 s, as createDb sets it) is rolled back when its callback next touches the
 * database or returns.
 */
export function createSqlPool(url: string, opts: { max?: number } = {}): SqlPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 15_000,
    types,
  });
  // An idle connection that breaks (the server restarted) is dropped by the pool; nothing to do here.
  pool.on("error", () => undefined);
  const base = sqlOn((text, values) => pool.query(text, values));
  return {
    ...base,
    async $transaction<R>(fn: (tx: Sql) => Promise<R>, o: { timeout?: number } = {}) {
      const client = await pool.connect();
      const deadline = Date.now() + (o.timeout ?? 30_000);
      let broken: unknown = null;
      try {
        await client.query("BEGIN");
        const tx = sqlOn((text, values) => {
          if (Date.now() > deadline)
            throw new Error(`transaction ran longer than ${o.timeout ?? 30_000} ms and was rolled back`);
          return client.query(text, values);
        });
        const out = await fn(tx);
        if (Date.now() > deadline)
          throw new Error(`transaction ran longer than ${o.timeout ?? 30_000} ms and was rolled back`);
        await client.query("COMMIT");
        return out;
      } catch (e) {
        await client.query("ROLLBACK").catch((err: unknown) => (broken = err));
        throw e;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: closed, not reused.
        client.release(broken ? (broken as Error) : undefined);
      }
    },
    end: () => pool.end(),
  };
}
