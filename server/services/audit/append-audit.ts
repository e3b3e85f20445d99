// Appends one event to the audit log. Appends are serialised by a transaction-scoped advisory
// lock, so concurrent writers (several console processes included) each see the true chain head
// and the chain stays valid. Pass a transaction client to make the event part of your own
// transaction (the event is then written only if that transaction commits).
import type { Prisma, PrismaClient } from "@prisma/client";
import { auditRowHash, GENESIS_HASH } from "./audit-hash";
import { enqueueNotifications } from "../notifications/enqueue-notifications";

type Tx = Prisma.TransactionClient;
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

export async function appendAudit(db: PrismaClient | Tx, entry: AuditEntry): Promise<void> {
  if (!ACTION.test(entry.action))
    throw new Error(`audit action "${entry.action}" is not a dotted lower-case name`);
  // jsonb keeps what JSON can say; normalising first makes the hash match what is read back.
  const detail = JSON.parse(JSON.stringify(entry.detail ?? {})) as Prisma.InputJsonObject;
  const write = async (tx: Tx) => {
    let prevHash = headOf.get(tx);
    if (prevHash === undefined) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
      const [head] = await tx.$queryRaw<
        { hash: string }[]
      >`SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`;
      prevHash = head?.hash ?? GENESIS_HASH;
    }
    const [next] = await tx.$queryRaw<
      { id: bigint }[]
    >`SELECT nextval(pg_get_serial_sequence('audit_events', 'id')) AS id`;
    const id = next!.id;
    const actor = entry.actorId
      ? ((await tx.user.findUnique({ where: { id: entry.actorId }, select: { email: true } }))?.email ?? null)
      : null;
    const row = {
      id,
      at: new Date(),
      actorId: entry.actorId,
      actor,
      action: entry.action,
      target: entry.target ?? null,
      detail,
    };
    const hash = auditRowHash(prevHash, row);
    // Raw SQL: appends sit on the rollout steps' hot path, where a Prisma model call costs more than the SQL.
    await tx.$executeRaw`
      INSERT INTO audit_events (id, at, actor_id, actor, action, target, detail, prev_hash, hash)
      VALUES (${id}, ${row.at}, ${row.actorId}, ${actor}, ${row.action}, ${row.target}, ${JSON.stringify(detail)}::jsonb, ${prevHash}, ${hash})`;
    headOf.set(tx, hash);
    // The notifications this event is (if any) join the same transaction: the outbox.
    await enqueueNotifications(tx, row);
  };
  if ("$transaction" in db) await db.$transaction(write, { maxWait: 15_000, timeout: 30_000 });
  else await write(db);
}
