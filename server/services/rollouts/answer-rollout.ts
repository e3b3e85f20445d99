// An approver approves or rejects the plan they saw (by its digest). The requester never counts,
// an approval of an older plan is refused, the same approval twice is refused, and approvals expire.
// The answer is checked against the hosts' current facts: if a host changed since the plan, the
// rollout's approvals lapse instead (lapse-rollout.ts). One short transaction under the rollout's
// row lock; refusals are audited in it and reported after it commits (never a second connection
// from inside the transaction: under a burst that drained the pool).
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { evaluatePolicy } from "@/server/services/policy/evaluate-policy";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { countValidApprovals } from "./count-approvals";
import { liveFactChanges } from "./decision-facts";
import { lapseRollout } from "./lapse-rollout";
import { rolloutPolicyRequest } from "./policy-request";
import { lockRolloutRow, serializeRollout } from "./rollout-mutex";
import { parseRolloutPlan } from "./plan-schema";
import { nowOf, type RolloutDeps } from "./types";
import type { Actor } from "./create-rollout";

export const APPROVAL_TTL_MS = Number(process.env.KEEL_APPROVAL_TTL_HOURS ?? 24) * 3_600_000;

type Answer = { rolloutId: string; digest: string; verdict: "approve" | "reject"; comment?: string };

export async function answerRollout(
  deps: RolloutDeps,
  actor: Actor,
  input: Answer,
): Promise<{ state: string }> {
  if (input.verdict === "reject" && !input.comment?.trim())
    throw new AppError("BAD_REQUEST", { message: "Say why you reject the rollout (a comment is required)." });
  return serializeRollout(input.rolloutId, () => answerOnce(deps, actor, input));
}

async function answerOnce(deps: RolloutDeps, actor: Actor, input: Answer): Promise<{ state: string }> {
  const { db } = deps;
  const at = nowOf(deps);
  const policy = await getActivePolicy({ db });
  const out = await db.$transaction(async (tx) => {
    // Lock the rollout row: two approvals at once must not both miss the threshold.
    const rolloutId = await lockRolloutRow(tx, input.rolloutId);
    const r = await tx.rollout.findUniqueOrThrow({
      where: { id: rolloutId },
      select: {
        id: true,
        number: true,
        state: true,
        planDigest: true,
        createdById: true,
        requiredApprovals: true,
        approverRole: true,
        plan: true,
        lapseReason: true,
      },
    });
    const target = `rollout:${r.number}`;
    const refuse = async (code: "FORBIDDEN" | "CONFLICT" | "POLICY_DENIED", message: string) => {
      await appendAudit(tx, {
        actorId: actor.id,
        action: "rollout.approval_refused",
        target,
        detail: { reason: message, verdict: input.verdict },
      });
      return { refused: { code, message } } as const;
    };
    if (r.createdById === actor.id)
      return refuse("FORBIDDEN", `You requested rollout ${r.number}; someone else must ${input.verdict} it.`);
    // A repeated answer (a double click, a retried request) says so before anything else.
    const mine = await tx.approval.findUnique({
      where: {
        subjectKind_subjectId_digest_approverId: {
          subjectKind: "rollout",
          subjectId: r.id,
          digest: input.digest,
          approverId: actor.id,
        },
      },
      select: { verdict: true, createdAt: true },
    });
    if (mine && input.digest === r.planDigest)
      return refuse(
        "CONFLICT",
        `You already answered this plan of rollout ${r.number}: ${mine.verdict === "approve" ? "approved" : "rejected"} by you at ${mine.createdAt.toISOString()}.`,
      );
    if (r.lapseReason)
      return refuse(
        "CONFLICT",
        `The approvals of rollout ${r.number} lapsed: ${r.lapseReason}. It must be planned again before anyone can approve it.`,
      );
    if (r.state !== "awaiting_approval")
      return refuse(
        "CONFLICT",
        `Rollout ${r.number} is ${r.state.replace("_", " ")}, not waiting for approval.`,
      );
    if (r.approverRole && !actor.roles.includes(r.approverRole))
      return refuse(
        "FORBIDDEN",
        `Rollout ${r.number} needs approval from the role ${r.approverRole}, which you do not have.`,
      );
    if (input.digest !== r.planDigest)
      return refuse(
        "CONFLICT",
        `The plan of rollout ${r.number} changed since you looked at it; review the new plan and answer again.`,
      );
    // What the approver saw must still be true of the hosts.
    const plan = parseRolloutPlan(r.plan, r.number);
    const { live, changes } = await liveFactChanges(tx, plan);
    if (changes.length > 0) {
      const reason = await lapseRollout(tx, r, changes, { actorId: actor.id, at: input.verdict });
      return refuse(
        "CONFLICT",
        `The approvals of rollout ${r.number} lapsed: ${reason}. It must be planned again before anyone can approve it.`,
      );
    }
    const requester = await tx.user.findUnique({
      where: { id: r.createdById },
      select: { id: true, roles: true },
    });
    const decision = evaluatePolicy(
      policy.document,
      await rolloutPolicyRequest(tx, requester ?? { id: r.createdById, roles: [] }, plan, {
        at,
        assumeWindowsOpen: true,
        live,
      }),
    );
    if (decision.effect === "deny" && input.verdict === "approve")
      return refuse(
        "POLICY_DENIED",
        `The policy now refuses rollout ${r.number}: ${decision.reasons.join("; ")}.`,
      );
    const created = await tx.approval.create({
      select: { id: true },
      data: {
        subjectKind: "rollout",
        subjectId: r.id,
        digest: r.planDigest,
        approverId: actor.id,
        verdict: input.verdict,
        comment: input.comment?.trim() ?? "",
        expiresAt: new Date(at.getTime() + APPROVAL_TTL_MS),
      },
    });
    let state = r.state;
    if (input.verdict === "reject") state = "rejected";
    else {
      const { count, checks } = await countValidApprovals(tx, r, at);
      // An approval that could never count is refused, as for policy versions and change requests,
      // rather than recorded silently (the approver would believe they had approved).
      const why = checks.find((c) => c.approverId === actor.id && !c.counts)?.why;
      if (why) {
        await tx.approval.delete({ where: { id: created.id } });
        return refuse("FORBIDDEN", `Your approval of rollout ${r.number} would not count: ${why}.`);
      }
      if (count >= r.requiredApprovals) state = "approved";
    }
    if (state !== r.state)
      await tx.rollout.update({
        where: { id: r.id },
        data: { state, ...(state === "rejected" ? { finishedAt: at } : {}) },
      });
    await appendAudit(tx, {
      actorId: actor.id,
      action: input.verdict === "approve" ? "rollout.approve" : "rollout.reject",
      target,
      detail: { digest: r.planDigest, comment: input.comment ?? "", state },
    });
    return { state };
  });
  if ("refused" in out) throw new AppError(out.refused.code, { message: out.refused.message });
  return out;
}
