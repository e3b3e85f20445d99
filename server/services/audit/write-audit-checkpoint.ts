// Writes the next signed checkpoint of the audit chain's head to the data dir (audit-checkpoints.ts).
// It first checks that the rows since the previous checkpoint extend the chain that checkpoint
// committed to, so a checkpoint never vouches for a log rewritten after the previous one: then it
// writes nothing and says what it found (`keel audit verify` names the row).
import type { PrismaClient } from "@prisma/client";
import { auditRowHash, GENESIS_HASH } from "./audit-hash";
import {
  appendCheckpoint,
  lastCheckpoint,
  loadCheckpointKey,
  signCheckpoint,
  type AuditCheckpoint,
} from "./audit-checkpoints";
import { auditRows } from "./verify-audit-chain";

export type CheckpointOutcome =
  | { written: true; checkpoint: AuditCheckpoint; line: string }
  | { written: false; reason: "unchanged" | "empty" }
  | { written: false; reason: "tampered"; problem: string };

export async function writeAuditCheckpoint({
  db,
  dataDir,
  clock = () => new Date(),
}: {
  db: PrismaClient;
  dataDir: string;
  clock?: () => Date;
}): Promise<CheckpointOutcome> {
  const key = loadCheckpointKey(dataDir, { create: true })!;
  const prev = lastCheckpoint(dataDir);
  let head = GENESIS_HASH;
  let rows = 0;
  let after: bigint | undefined;
  if (prev) {
    const at = await db.auditEvent.findUnique({ where: { id: BigInt(prev.lastId) }, select: { hash: true } });
    if (at?.hash !== prev.head)
      return {
        written: false,
        reason: "tampered",
        problem: `audit row ${prev.lastId} ${at ? "no longer has the hash" : "is gone, which"} checkpoint ${prev.seq} committed to: run keel audit verify`,
      };
    head = prev.head;
    rows = prev.rows;
    after = BigInt(prev.lastId);
  }
  let last: { id: bigint; at: Date; action: string; actor: string | null } | null = null;
  for await (const r of auditRows(db, after)) {
    if (r.prevHash !== head || auditRowHash(head, r) !== r.hash)
      return {
        written: false,
        reason: "tampered",
        problem: `audit row ${r.id} does not extend the chain${prev ? ` of checkpoint ${prev.seq}` : ""}: run keel audit verify`,
      };
    head = r.hash;
    rows++;
    last = r;
  }
  if (!last) return { written: false, reason: prev ? "unchanged" : "empty" };
  const checkpoint = signCheckpoint(
    {
      seq: (prev?.seq ?? 0) + 1,
      at: clock().toISOString(),
      rows,
      lastId: last.id.toString(),
      lastAt: last.at.toISOString(),
      lastAction: last.action,
      lastActor: last.actor,
      head,
    },
    key,
  );
  return { written: true, checkpoint, line: appendCheckpoint(dataDir, checkpoint) };
}
