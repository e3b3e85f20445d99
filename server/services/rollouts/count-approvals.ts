// Which approvals count: for this exact digest, not expired, verdict approve, never the requester's.
import type { Prisma, PrismaClient } from "@prisma/client";

type Tx = PrismaClient | Prisma.TransactionClient;

export async function countValidApprovals(
  db: Tx,
  r: { id: string; planDigest: string; createdById: string },
  at: Date,
): Promise<{ count: number; approvers: string[]; rejected: boolean }> {
  const rows = await db.approval.findMany({
    where: { subjectKind: "rollout", subjectId: r.id, digest: r.planDigest },
    select: { approverId: true, verdict: true, expiresAt: true },
  });
  const approvers = rows
    .filter((a) => a.verdict === "approve" && a.expiresAt > at && a.approverId !== r.createdById)
    .map((a) => a.approverId);
  return { count: new Set(approvers).size, approvers, rejected: rows.some((a) => a.verdict === "reject") };
}
