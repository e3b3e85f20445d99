// The Prisma client: `db` is the process-wide client for DATABASE_URL (created on first use);
// `createDb(url)` makes a separate one (tests, start-up). Prisma runs without its native engine
// (engineType "client") through the node-postgres driver adapter.
import { PrismaClient } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
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
