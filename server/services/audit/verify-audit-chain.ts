// Checks the audit log's hash chain from the first row to the last, reading in pages, and names
// the first row whose stored hash or link to its predecessor does not match.
import type { PrismaClient } from "@prisma/client";
import { auditRowHash, GENESIS_HASH } from "./audit-hash";

export type AuditChainReport =
  | { ok: true; rows: number; headHash: string }
  | { ok: false; rows: number; brokenAt: { id: string; action: string; at: Date; reason: string } };

const PAGE = 1000;

export async function verifyAuditChain({ db }: { db: PrismaClient }): Promise<AuditChainReport> {
  let prev = GENESIS_HASH;
  let after: bigint | undefined;
  let rows = 0;
  for (;;) {
    const page = await db.auditEvent.findMany({
      where: after === undefined ? {} : { id: { gt: after } },
      orderBy: { id: "asc" },
      take: PAGE,
    });
    for (const r of page) {
      const broken = (reason: string): AuditChainReport => ({
        ok: false,
        rows,
        brokenAt: { id: r.id.toString(), action: r.action, at: r.at, reason },
      });
      if (r.prevHash !== prev) return broken("its link to the previous row does not match (a row before it was removed or changed)");
      if (auditRowHash(prev, r) !== r.hash) return broken("its contents do not match its hash (the row was altered)");
      prev = r.hash;
      rows++;
    }
    if (page.length < PAGE) return { ok: true, rows, headHash: prev };
    after = page[page.length - 1]!.id;
  }
}
