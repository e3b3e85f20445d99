// Which approvals count: for this exact digest, not expired, verdict approve, and independent of
// the requester and of each other (the two-person rule, server/services/policy/count-independent.ts;
// docs/decisions/0015-two-person-rule.md). The requester never counts.
import type { Prisma, PrismaClient } from "@prisma/client";
import { countIndependentApprovals, type ApprovalCheck } from "@/server/services/policy/count-independent";

type Tx = PrismaClient | Prisma.TransactionClient;

export async function countValidApprovals(
  db: Tx,
  r: { id: string; planDigest: string; createdById: string; createdAt?: Date; approverRole?: string | null },
  at: Date,
): Promise<{ count: number; approvers: string[]; rejected: boolean; checks: ApprovalCheck[] }> {
  const rows = await db.approval.findMany({
    where: { subjectKind: "rollout", subjectId: r.id, digest: r.planDigest },
    select: { approverId: true, verdict: true, expiresAt: true },
    orderBy: { createdAt: "asc" },
  });
  // Callers that have only the row's id, digest and requester: the rest comes from the row.
  const meta =
    r.createdAt !== undefined && r.approverRole !== undefined
      ? { createdAt: r.createdAt, approverRole: r.approverRole }
      : await db.rollout.findUniqueOrThrow({
          where: { id: r.id },
          select: { createdAt: true, approverRole: true },
        });
  const live = rows.filter((a) => a.verdict === "approve" && a.expiresAt > at);
  const { count, approvers, checks } = await countIndependentApprovals(
    db,
    { requesterId: r.createdById, requestedAt: meta.createdAt, role: meta.approverRole },
    live,
  );
  return { count, approvers, checks, rejected: rows.some((a) => a.verdict === "reject") };
}
