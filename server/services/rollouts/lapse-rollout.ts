// When something a rollout's decision rests on changed (a host's environment, labels or groups;
// found at approve, start or dispatch), its approvals lapse: the rollout pauses with the reason,
// which stays until the rollout is planned again (replan clears it), nothing more is dispatched,
// and the lapse is audited with the approvals it voided. Runs in the caller's transaction.
import type { Prisma } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { describeChanges } from "./decision-facts";

type Tx = Prisma.TransactionClient;

export const LIVE_STATES = ["awaiting_approval", "approved", "running", "paused"];

/** The reason for `changes`, worded for when they happened relative to the plan's approvals. */
export async function lapseReasonFor(
  tx: Tx,
  r: { id: string; planDigest: string },
  changes: string[],
): Promise<string> {
  const approved = await tx.approval.count({
    where: { subjectKind: "rollout", subjectId: r.id, digest: r.planDigest, verdict: "approve" },
  });
  return describeChanges(changes, approved > 0 ? "after approval" : "after the plan was made");
}

/** Lapses the rollout (once: a rollout that lapsed already keeps its first reason). Returns the reason in force. */
export async function lapseRollout(
  tx: Tx,
  r: { id: string; number: number; planDigest: string },
  changes: string[],
  by: { actorId: string | null; at: string },
): Promise<string> {
  const reason = await lapseReasonFor(tx, r, changes);
  const now = new Date();
  const won = await tx.rollout.updateMany({
    where: { id: r.id, state: { in: LIVE_STATES }, lapseReason: null },
    data: {
      state: "paused",
      pauseReason: `approvals lapsed: ${reason}; plan the rollout again`,
      lapseReason: reason,
      lapsedAt: now,
    },
  });
  if (won.count === 0) {
    const cur = await tx.rollout.findUnique({ where: { id: r.id }, select: { lapseReason: true } });
    return cur?.lapseReason ?? reason;
  }
  // Hosts queued for dispatch wait; a step already past its own dispatch check finishes.
  await tx.rolloutHost.updateMany({
    where: { rolloutId: r.id, state: "queued" },
    data: { state: "pending", step: null },
  });
  const voided = await tx.approval.findMany({
    where: { subjectKind: "rollout", subjectId: r.id, digest: r.planDigest, verdict: "approve" },
    select: { approverId: true },
  });
  await appendAudit(tx, {
    actorId: by.actorId,
    action: "rollout.lapse",
    target: `rollout:${r.number}`,
    detail: {
      reason,
      changes,
      digest: r.planDigest,
      approvals: voided.map((a) => a.approverId),
      found: by.at,
    },
  });
  return reason;
}
