// What waits for this approver: rollouts awaiting approval that they did not request and have not
// answered for the current plan, with the policy's reasons and the risk (hosts, environments, bytes);
// and rollouts whose approvals lapsed (a host changed after the plan), with the reason, until they
// are planned again or end.
import type { PrismaClient } from "@prisma/client";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { nextOpening, windowsFor } from "@/server/services/policy/windows";
import { changesSinceApproval } from "./plan-changes";
import { parseRolloutPlan } from "./plan-schema";
import { ROLLOUT_NAME, rolloutName } from "./types";

/** Hosts shown per rollout on the approval card (the rollout's page has them all). */
const CARD_HOSTS = 50;

export async function listPendingApprovals(
  { db }: { db: PrismaClient },
  viewer: { id: string; roles: readonly string[] },
) {
  const waiting = await db.rollout.findMany({
    where: { state: "awaiting_approval" },
    orderBy: { createdAt: "asc" },
    take: 200,
  });
  const answered = await db.approval.findMany({
    where: { subjectKind: "rollout", approverId: viewer.id, subjectId: { in: waiting.map((r) => r.id) } },
    select: { subjectId: true, digest: true },
  });
  const done = new Set(answered.map((a) => `${a.subjectId}:${a.digest}`));
  const users = await db.user.findMany({
    where: { id: { in: waiting.map((r) => r.createdById) } },
    select: { id: true, email: true },
  });
  const email = new Map(users.map((u) => [u.id, u.email]));
  const policies = await db.policyVersion.findMany({
    where: { state: "proposed" },
    orderBy: { version: "asc" },
  });
  const windows = waiting.length ? (await getActivePolicy({ db })).document.windows : [];
  const now = new Date();
  const lapsed = await db.rollout.findMany({
    where: {
      lapseReason: { not: null },
      state: { in: ["awaiting_approval", "approved", "running", "paused"] },
    },
    orderBy: { lapsedAt: "desc" },
    take: 50,
    select: {
      ...ROLLOUT_NAME,
      planDigest: true,
      lapseReason: true,
      lapsedAt: true,
      createdById: true,
    },
  });
  const voided = await db.approval.findMany({
    where: { subjectKind: "rollout", verdict: "approve", subjectId: { in: lapsed.map((r) => r.id) } },
    select: { subjectId: true, digest: true, approverId: true },
  });
  const approverEmails = new Map(
    (
      await db.user.findMany({
        where: { id: { in: [...new Set(voided.map((a) => a.approverId))] } },
        select: { id: true, email: true },
      })
    ).map((u) => [u.id, u.email]),
  );
  const changed = await changesSinceApproval(db, waiting);
  return {
    rollouts: waiting.map((r) => {
      const plan = parseRolloutPlan(r.plan, r.number);
      const decision = r.decision as { reasons?: string[] };
      // Plans made before groups were recorded have none.
      const working = plan.hosts
        .filter((h) => h.action !== "nothing")
        .map((h) => ({ environment: h.environment, groups: h.groups ?? [] }));
      const bound = [
        ...new Set(
          working.flatMap((h) =>
            windowsFor(h, windows).map(
              (w) => `${w.name} (${w.days.join(",")} ${w.start}–${w.end} ${w.timeZone})`,
            ),
          ),
        ),
      ].sort();
      return {
        ...rolloutName(r),
        digest: r.planDigest,
        requester: email.get(r.createdById) ?? r.createdById,
        createdAt: r.createdAt,
        reasons: decision.reasons ?? [],
        requiredApprovals: r.requiredApprovals,
        approverRole: r.approverRole,
        risk: {
          hosts: plan.totals.hosts - plan.totals.nothing,
          environments: [...new Set(plan.hosts.map((h) => h.environment ?? "none"))].sort(),
          bytes: plan.totals.bytes,
          waves: plan.waves,
          diskNeeded: plan.totals.diskNeeded,
          /** Commands of the release that run as root, and on how many hosts (null: none). */
          rootCommands: plan.rootCommands ?? null,
          /** A runtime rollout and the installed apps that use the runtime (decision 0023). */
          kind: plan.kind ?? "app",
          affects: plan.affects ?? null,
        },
        /** The maintenance windows its hosts are bound by, and the next time all are open together. */
        windows: bound,
        nextStart: nextOpening(working, windows, now),
        /** Per host (first CARD_HOSTS): what happens, with which stream, how many bytes, in which wave. */
        hosts: plan.hosts.slice(0, CARD_HOSTS).map((h) => ({
          name: h.name,
          environment: h.environment,
          wave: h.wave,
          action: h.action,
          from: h.from,
          to: h.to,
          stream: h.stream,
          parent: h.parent,
          bytes: h.bytes,
          diskNeeded: h.diskNeeded,
          note: h.note ?? null,
          excluded: h.excluded ?? null,
          runtimes: h.runtimes ?? null,
        })),
        hostCount: plan.hosts.length,
        canAnswer:
          r.createdById !== viewer.id &&
          (!r.approverRole || viewer.roles.includes(r.approverRole)) &&
          !done.has(`${r.id}:${r.planDigest}`),
        isMine: r.createdById === viewer.id,
        /** Re-planned after someone approved: who approved which plan when, and what differs now. */
        changedSinceApproval: changed.get(r.id) ?? null,
      };
    }),
    lapsed: lapsed.map((r) => {
      const approvals = voided.filter((a) => a.subjectId === r.id && a.digest === r.planDigest);
      return {
        ...rolloutName(r),
        reason: r.lapseReason!,
        lapsedAt: r.lapsedAt,
        approvers: approvals.map((a) => approverEmails.get(a.approverId) ?? a.approverId),
        yours: approvals.some((a) => a.approverId === viewer.id),
        isMine: r.createdById === viewer.id,
      };
    }),
    policies: policies.map((p) => ({
      id: p.id,
      version: p.version,
      digest: p.digest,
      comment: p.comment,
      createdAt: p.createdAt,
      canAnswer: p.createdById !== viewer.id,
    })),
  };
}
