// Plans a rollout had, kept by digest (rollout_plan_versions), and what changed since the last plan
// someone approved: for the approval card after a re-plan, whose approvals no longer count.
import type { Prisma, PrismaClient } from "@prisma/client";
import { diffPlans } from "./plan-diff";
import { parseRolloutPlan } from "./plan-schema";
import type { RolloutPlan } from "./types";

type Tx = Prisma.TransactionClient | PrismaClient;

/** Called with every plan a rollout gets (create, re-plan). */
export async function recordPlanVersion(
  tx: Tx,
  rolloutId: string,
  digest: string,
  plan: RolloutPlan,
): Promise<void> {
  await tx.rolloutPlanVersion.createMany({
    data: [{ rolloutId, digest, plan: plan as unknown as Prisma.InputJsonValue }],
    skipDuplicates: true,
  });
}

export type PlanChanges = { approvedAt: Date; approvedBy: string[]; changes: string[] };

/**
 * For rollouts whose current plan differs from the last one anyone approved: who approved that
 * plan, when, and what differs now. Rollouts without such an approval are not in the map.
 */
export async function changesSinceApproval(
  db: PrismaClient,
  rollouts: { id: string; planDigest: string; plan: unknown }[],
): Promise<Map<string, PlanChanges>> {
  const out = new Map<string, PlanChanges>();
  if (!rollouts.length) return out;
  const approvals = await db.approval.findMany({
    where: { subjectKind: "rollout", verdict: "approve", subjectId: { in: rollouts.map((r) => r.id) } },
    orderBy: { createdAt: "desc" },
    select: { subjectId: true, digest: true, approverId: true, createdAt: true },
  });
  const latest = new Map<string, { digest: string; createdAt: Date }>();
  for (const a of approvals) if (!latest.has(a.subjectId)) latest.set(a.subjectId, a);
  const wanted = rollouts.filter((r) => latest.has(r.id) && latest.get(r.id)!.digest !== r.planDigest);
  if (!wanted.length) return out;
  const versions = await db.rolloutPlanVersion.findMany({
    where: { OR: wanted.map((r) => ({ rolloutId: r.id, digest: latest.get(r.id)!.digest })) },
    select: { rolloutId: true, plan: true },
  });
  const users = new Map(
    (
      await db.user.findMany({
        where: { id: { in: [...new Set(approvals.map((a) => a.approverId))] } },
        select: { id: true, email: true },
      })
    ).map((u) => [u.id, u.email]),
  );
  for (const r of wanted) {
    const then = versions.find((v) => v.rolloutId === r.id);
    const digest = latest.get(r.id)!.digest;
    const by = approvals.filter((a) => a.subjectId === r.id && a.digest === digest);
    out.set(r.id, {
      approvedAt: latest.get(r.id)!.createdAt,
      approvedBy: [...new Set(by.map((a) => users.get(a.approverId) ?? a.approverId))],
      // A plan approved before plans were kept: say so rather than nothing.
      changes: then
        ? diffPlans(parseRolloutPlan(then.plan, r.id), parseRolloutPlan(r.plan, r.id))
        : [
            "the approved plan was not kept (planned before this console kept plans); compare the plan below in full",
          ],
    });
  }
  return out;
}
