// Appends one event to the audit log. Appends are serialised by a transaction-scoped advisory
// lock, so concurrent writers (several console processes included) each see the true chain head
// and the chain stays valid. Pass a transaction client to make the event part of your own
// transaction (the event is then written only if that transaction commits). Raw SQL only, so that
// it runs on Prisma or on the rollout worker's node-postgres pool alike (server/db.ts, decision 0042).
import { Prisma } from "@prisma/client";
import type { Sql, SqlClient } from "@/server/db";
import { auditRowHash, GENESIS_HASH, type HashedFields } from "./audit-hash";
import { enqueueNotifications } from "@/server/services/notifications/enqueue-notifications";

type Tx = Sql;
/** Keel-wide advisory lock id for the audit chain head. */
const AUDIT_LOCK_KEY = 72_657_102;

export type AuditEntry = {
  actorId: string | null;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
};

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * The chain head each open transaction appended last: it holds the lock until it ends, so a second
 * append in the same transaction (a batch of rollout steps) needs neither the lock nor the head again.
 * (Do not append inside a savepoint that may be rolled back: the remembered head would be wrong.)
 */
const headOf = new WeakMap<Tx, string>();

/** Appends of a transaction collected by deferAudit, written by flushAudit. */
const deferred = new WeakMap<Tx, Unnumbered[]>();
type Unnumbered = Omit<HashedFields, "id"> & { detail: Prisma.InputJsonObject };

/**
 * From now until flushAudit(tx), appendAudit(tx, …) only collects its event (time and actor taken
 * at the call); flushAudit writes them in order, numbered and chained exactly as one by one: the
 * chain's lock, then its head and all the numbers in one statement, then all the rows in one —
 * three round trips for a batch of rollout steps instead of two per event plus two. A transaction
 * that defers must flush before it commits.
 */
export function deferAudit(tx: Tx): void {
  if (!deferred.has(tx)) deferred.set(tx, []);
}

export async function flushAudit(tx: Tx): Promise<void> {
  const rows = deferred.get(tx);
  deferred.delete(tx);
  if (rows?.length) await write(tx, rows.length, async () => rows);
}

export async function appendAudit(db: SqlClient | Tx, entry: AuditEntry): Promise<void> {
  if (!ACTION.test(entry.action))
    throw new Error(`audit action "${entry.action}" is not a dotted lower-case name`);
  // jsonb keeps what JSON can say; normalising first makes the hash match what is read back.
  const detail = JSON.parse(JSON.stringify(entry.detail ?? {})) as Prisma.InputJsonObject;
  const row = async (tx: Tx): Promise<Unnumbered> => ({
    at: new Date(),
    actorId: entry.actorId,
    actor: entry.actorId
      ? ((await tx.$queryRaw<{ email: string }[]>`SELECT email FROM users WHERE id = ${entry.actorId}`)[0]
          ?.email ?? null)
      : null,
    action: entry.action,
    target: entry.target ?? null,
    detail,
  });
  // Written at once, the event's time is taken under the chain's lock, as its number is.
  if ("$transaction" in db)
    await db.$transaction(async (tx) => write(tx, 1, async () => [await row(tx)]), {
      maxWait: 15_000,
      timeout: 30_000,
    });
  else if (deferred.has(db)) deferred.get(db)!.push(await row(db));
  else await write(db, 1, async () => [await row(db)]);
}

/** Numbers, chains and inserts `count` rows in order, then queues their notifications (the outbox). */
async function write(tx: Tx, count: number, make: () => Promise<Unnumbered[]>): Promise<void> {
  let prevHash = headOf.get(tx);
  const numbers = Prisma.sql`ARRAY(SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text
    FROM generate_series(1, ${count}::int)) AS ids`;
  let ids: string[];
  if (prevHash === undefined) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
    // The head is read after the lock is granted (a statement of its own: a fresh snapshot).
    const [head] = await tx.$queryRaw<{ hash: string | null; ids: string[] }[]>`
      SELECT (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) AS hash, ${numbers}`;
    prevHash = head!.hash ?? GENESIS_HASH;
    ids = head!.ids;
  } else {
    const [next] = await tx.$queryRaw<{ ids: string[] }[]>`SELECT ${numbers}`;
    ids = next!.ids;
  }
  const chained = (await make()).map((r, i) => {
    const row = { ...r, id: BigInt(ids[i]!) };
    const hash = auditRowHash(prevHash!, row);
    const out = { ...row, prevHash: prevHash!, hash };
    prevHash = hash;
    return out;
  });
  // Raw SQL: appends sit on the rollout steps' hot path, where a Prisma model call costs more than the SQL.
  await tx.$executeRaw`
    INSERT INTO audit_events (id, at, actor_id, actor, action, target, detail, prev_hash, hash)
    SELECT (r->>'id')::bigint, (r->>'at')::timestamptz, r->>'actorId', r->>'actor', r->>'action', r->>'target',
      r->'detail', r->>'prevHash', r->>'hash'
    FROM jsonb_array_elements(${JSON.stringify(chained, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}::jsonb)
      WITH ORDINALITY AS x(r, n) ORDER BY n`;
  headOf.set(tx, prevHash!);
  // The notifications these events are (if any) join the same transaction: the outbox.
  for (const r of chained) await enqueueNotifications(tx, r);
}
