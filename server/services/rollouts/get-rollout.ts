// One rollout with its plan, the policy's answer, approvals and live per-host progress.
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { countValidApprovals } from "./count-approvals";
import { parseRolloutPlan } from "./plan-schema";
import { rolloutName } from "./types";

export async function getRollout({ db }: { db: PrismaClient }, id: string) {
  const r = await db.rollout.findUnique({ where: { id } });
  if (!r) throw new AppError("NOT_FOUND", { message: "no such rollout" });
  const [hosts, approvals, valid] = await Promise.all([
    db.rolloutHost.findMany({
      where: { rolloutId: id },
      orderBy: [{ wave: "asc" }, { hostName: "asc" }],
      select: {
        hostId: true,
        hostName: true,
        wave: true,
        action: true,
        streamKind: true,
        parentVersion: true,
        plannedBytes: true,
        state: true,
        step: true,
        bytesSent: true,
        error: true,
        attempts: true,
        startedAt: true,
        finishedAt: true,
      },
    }),
    db.approval.findMany({ where: { subjectKind: "rollout", subjectId: id }, orderBy: { createdAt: "asc" } }),
    countValidApprovals(db, r, new Date()),
  ]);
  const people = await db.user.findMany({
    where: {
      id: {
        in: [
          r.createdById,
          ...approvals.map((a) => a.approverId),
          ...(r.scheduledById ? [r.scheduledById] : []),
        ],
      },
    },
    select: { id: true, email: true },
  });
  const email = new Map(people.map((u) => [u.id, u.email]));
  return {
    ...rolloutName(r),
    state: r.state,
    pauseReason: r.pauseReason,
    /** Something the decision rested on changed: this plan's approvals no longer count (decision 0014). */
    lapse: r.lapseReason ? { reason: r.lapseReason, at: r.lapsedAt } : null,
    /** A start scheduled for `at` by `by` (a worker starts it then, with the Start button's checks). */
    schedule: r.scheduledStartAt
      ? { at: r.scheduledStartAt, by: email.get(r.scheduledById ?? "") ?? r.scheduledById }
      : null,
    /** Why the last scheduled start was refused (cleared by the next schedule or a start). */
    scheduleError: r.scheduleError,
    targets: r.targets,
    waveSpec: r.waveSpec,
    waveSizes: r.waveSizes,
    currentWave: r.currentWave,
    failureThreshold: r.failureThreshold,
    parallelism: r.parallelism,
    plan: parseRolloutPlan(r.plan, r.number),
    planDigest: r.planDigest,
    decision: r.decision as { effect: string; reasons: string[]; approvals?: number; approverRole?: string },
    policyVersion: r.policyVersion,
    requiredApprovals: r.requiredApprovals,
    approverRole: r.approverRole,
    validApprovals: r.lapseReason ? 0 : valid.count,
    createdById: r.createdById,
    requester: email.get(r.createdById) ?? r.createdById,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    approvals: approvals.map((a) => ({
      approver: email.get(a.approverId) ?? a.approverId,
      verdict: a.verdict,
      comment: a.comment,
      at: a.createdAt,
      expiresAt: a.expiresAt,
      current: a.digest === r.planDigest,
      lapsed: a.digest === r.planDigest && a.verdict === "approve" && !!r.lapseReason,
    })),
    hosts: hosts.map((h) => ({ ...h, plannedBytes: Number(h.plannedBytes), bytesSent: Number(h.bytesSent) })),
  };
}
