// What someone with the database password can do to the audit log, for tests: as a superuser,
// switch the append-only triggers off, edit or delete rows, and recompute every hash after an
// edit so that the chain alone still verifies (only the checkpoints outside the database show it).
import type { PrismaClient } from "@prisma/client";
import { auditRowHash, GENESIS_HASH } from "@/server/services/audit/audit-hash";

/** Sets row `id`'s detail and recomputes its hash and every later one (`su`: a superuser's client). */
export async function rewriteAuditRow(su: PrismaClient, id: bigint, detail: object): Promise<void> {
  await su.$executeRawUnsafe(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
  const rows = await su.auditEvent.findMany({ orderBy: { id: "asc" } });
  let prev = GENESIS_HASH;
  for (const r of rows) {
    if (r.id < id) {
      prev = r.hash;
      continue;
    }
    const row = r.id === id ? { ...r, detail } : r;
    const hash = auditRowHash(prev, row);
    await su.$executeRaw`UPDATE audit_events SET detail = ${JSON.stringify(row.detail)}::jsonb, prev_hash = ${prev}, hash = ${hash} WHERE id = ${r.id}`;
    prev = hash;
  }
  await su.$executeRawUnsafe(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
}

/** Deletes the `n` newest rows (the chain stays valid: its head just moves back). */
export async function deleteNewestAuditRows(su: PrismaClient, n: number): Promise<void> {
  await su.$executeRawUnsafe(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
  await su.$executeRawUnsafe(
    `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events ORDER BY id DESC LIMIT ${Number(n)})`,
  );
  await su.$executeRawUnsafe(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
}
