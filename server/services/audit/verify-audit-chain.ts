// Checks the audit log: its hash chain from the first row to the last (reading in pages), and,
// given the console's data dir, that chain against the signed checkpoints kept there
// (audit-checkpoints.ts). Reports the first problem in the chain's order:
//   - chain: a row whose stored hash or link to its predecessor does not match (edited in place);
//   - rewrite: the chain is consistent but differs from a checkpoint (rows edited or removed and
//     every later hash recomputed) — names the row the checkpoint committed to;
//   - truncation: fewer rows than a checkpoint counted (the newest rows deleted);
//   - checkpoints: the checkpoint file itself does not check out.
import type { PrismaClient } from "@prisma/client";
import { auditRowHash, GENESIS_HASH, type HashedFields } from "./audit-hash";
import { readAuditCheckpoints, type AuditCheckpoint } from "./audit-checkpoints";

export type ProblemKind = "chain" | "rewrite" | "truncation" | "checkpoints";
export type CheckpointSummary = { count: number; newest: { seq: number; at: Date; rows: number } | null };
export type AuditChainReport =
  | { ok: true; rows: number; headHash: string; checkpoints: CheckpointSummary }
  | {
      ok: false;
      rows: number;
      kind: ProblemKind;
      /** One line for an admin: what differs, from which checkpoint, and what it means. */
      message: string;
      brokenAt: { id: string; action: string; at: Date; reason: string } | null;
      checkpoints: CheckpointSummary;
    };

const PAGE = 1000;

type Row = HashedFields & { prevHash: string; hash: string };

/** The rows after `afterId` in id order, a page at a time. */
export async function* auditRows(db: PrismaClient, afterId?: bigint): AsyncGenerator<Row> {
  let after = afterId;
  for (;;) {
    const page = await db.auditEvent.findMany({
      where: after === undefined ? {} : { id: { gt: after } },
      orderBy: { id: "asc" },
      take: PAGE,
    });
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.id;
  }
}

/** "2026-12-05 13:02:07 UTC" */
export const when = (d: Date | string) =>
  new Date(d)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
const describeRow = (id: string, at: Date | string, action: string, actor: string | null) =>
  `audit row ${id} (${when(at)}, ${action}${actor ? ` by ${actor}` : ""})`;
const cpName = (c: AuditCheckpoint) => `checkpoint ${c.seq} of ${when(c.at)}`;

export async function verifyAuditChain({
  db,
  dataDir,
}: {
  db: PrismaClient;
  dataDir?: string;
}): Promise<AuditChainReport> {
  const file = dataDir ? readAuditCheckpoints(dataDir) : { checkpoints: [], problems: [] };
  // Ordered by the row count they commit to; the same count twice must agree anyway.
  const cps = [...file.checkpoints].sort((a, b) => a.rows - b.rows || a.seq - b.seq);
  const newest = file.checkpoints.reduce<AuditCheckpoint | null>(
    (n, c) => (!n || c.seq > n.seq ? c : n),
    null,
  );
  const checkpoints: CheckpointSummary = {
    count: cps.length,
    newest: newest && { seq: newest.seq, at: new Date(newest.at), rows: newest.rows },
  };
  const fail = (
    kind: ProblemKind,
    message: string,
    rows: number,
    brokenAt: Extract<AuditChainReport, { ok: false }>["brokenAt"] = null,
  ): AuditChainReport => ({
    ok: false,
    kind,
    message,
    rows,
    brokenAt,
    checkpoints,
  });
  if (file.problems.length) return fail("checkpoints", file.problems.join("; "), 0);

  let prev = GENESIS_HASH;
  let rows = 0;
  let next = 0; // the first checkpoint not yet reached
  let matched: AuditCheckpoint | null = null; // the last checkpoint the chain agreed with
  let last: Row | null = null;
  for await (const r of auditRows(db)) {
    const brokenAt = (reason: string) => ({ id: r.id.toString(), action: r.action, at: r.at, reason });
    if (r.prevHash !== prev) {
      const reason = "its link to the previous row does not match (a row before it was removed or changed)";
      return fail(
        "chain",
        `audit chain BROKEN at event #${r.id} (${r.action}, ${r.at.toISOString()}): ${reason}; ${rows} events before it verified`,
        rows,
        brokenAt(reason),
      );
    }
    if (auditRowHash(prev, r) !== r.hash) {
      const reason = "its contents do not match its hash (the row was altered)";
      return fail(
        "chain",
        `audit chain BROKEN at event #${r.id} (${r.action}, ${r.at.toISOString()}): ${reason}; ${rows} events before it verified`,
        rows,
        brokenAt(reason),
      );
    }
    prev = r.hash;
    rows++;
    last = r;
    for (; next < cps.length && cps[next]!.rows === rows; next++) {
      const c = cps[next]!;
      if (c.lastId === r.id.toString() && c.head === r.hash) {
        matched = c;
        continue;
      }
      const since = matched
        ? `rows after #${matched.lastId} (${cpName(matched)}, which still matches)`
        : `rows from the first one`;
      const differs =
        c.lastId === r.id.toString()
          ? `differs from ${cpName(c)}`
          : `stands where ${cpName(c)} had row ${c.lastId} (${c.lastAction}, ${when(c.lastAt)})`;
      return fail(
        "rewrite",
        `${describeRow(r.id.toString(), r.at, r.action, r.actor)} ${differs}: the log was rewritten after that time (${since} up to #${c.lastId} were changed or removed, and the hashes after them recomputed)`,
        rows,
        brokenAt(`differs from ${cpName(c)}`),
      );
    }
  }
  if (next < cps.length) {
    const c = cps[next]!;
    const have = last
      ? `the database has ${rows}, the newest ${describeRow(last.id.toString(), last.at, last.action, last.actor)}`
      : "the database has none";
    return fail(
      "truncation",
      `the audit log was truncated: ${cpName(c)} counted ${c.rows} rows up to ${describeRow(c.lastId, c.lastAt, c.lastAction, c.lastActor)}; ${have}: rows after it were deleted`,
      rows,
    );
  }
  return { ok: true, rows, headHash: prev, checkpoints };
}
