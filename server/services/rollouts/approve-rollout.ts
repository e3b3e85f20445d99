// An approver approves or rejects the plan they saw (by its digest). The requester never counts,
// an approval of an older plan is refused, the same approval twice is refused, and approvals expire.
import { AppError } from "@/server/errors";
import { appendAudit } from "../audit/append-audit";
import { countValidApprovals } from "./count-approvals";
import { nowOf, type RolloutDeps } from "./types";
import type { Actor } from "./create-rollout";

export const APPROVAL_TTL_MS = Number(process.env.KEEL_APPROVAL_TTL_HOURS ?? 24) * 3_600_000;

export async function answerRollout(
  deps: RolloutDeps,
  actor: Actor,
  input: { rolloutId: string; digest: string; verdict: "approve" | "reject"; comment?: string },
) {
  const { db } = deps;
  const at = nowOf(deps);
  return db.$transaction(async (tx) => {
    // Lock the rollout row: two approvals at once must not both miss the threshold.
    const [r] = await tx.$queryRaw<
      { id: string; number: number; state: string; plan_digest: string; created_by_id: string; required_approvals: number; approver_role: string | null }[]
    >`SELECT id::text, number, state, plan_digest, created_by_id, required_approvals, approver_role FROM rollouts WHERE id = ${input.rolloutId}::uuid FOR UPDATE`;
    if (!r) throw new AppError("NOT_FOUND", { message: "no such rollout" });
    const target = `rollout:${r.number}`;
    const refuse = async (code: "FORBIDDEN" | "CONFLICT", message: string) => {
      await appendAudit(db, { actorId: actor.id, action: "rollout.approval_refused", target, detail: { reason: message, verdict: input.verdict } });
      throw new AppError(code, { message });
    };
    if (r.created_by_id === actor.id)
      return refuse("FORBIDDEN", `You requested rollout ${r.number}; someone else must ${input.verdict} it.`);
    if (r.state !== "awaiting_approval")
      return refuse("CONFLICT", `Rollout ${r.number} is ${r.state.replace("_", " ")}, not waiting for approval.`);
    if (r.approver_role && !actor.roles.includes(r.approver_role))
      return refuse("FORBIDDEN", `Rollout ${r.number} needs approval from the role ${r.approver_role}, which you do not have.`);
    if (input.digest !== r.plan_digest)
      return refuse("CONFLICT", `The plan of rollout ${r.number} changed since you looked at it; review the new plan and answer again.`);
    if (input.verdict === "reject" && !input.comment?.trim())
      throw new AppError("BAD_REQUEST", { message: "Say why you reject the rollout (a comment is required)." });
    const dup = await tx.approval.findUnique({
      where: { subjectKind_subjectId_digest_approverId: { subjectKind: "rollout", subjectId: r.id, digest: r.plan_digest, approverId: actor.id } },
      select: { id: true },
    });
    if (dup) return refuse("CONFLICT", `You already answered this plan of rollout ${r.number}.`);
    await tx.approval.create({
      data: {
        subjectKind: "rollout",
        subjectId: r.id,
        digest: r.plan_digest,
        approverId: actor.id,
        verdict: input.verdict,
        comment: input.comment?.trim() ?? "",
        expiresAt: new Date(at.getTime() + APPROVAL_TTL_MS),
      },
    });
    let state = r.state;
    if (input.verdict === "reject") state = "rejected";
    else {
      const { count } = await countValidApprovals(tx, { id: r.id, planDigest: r.plan_digest, createdById: r.created_by_id }, at);
      if (count >= r.required_approvals) state = "approved";
    }
    if (state !== r.state) await tx.rollout.update({ where: { id: r.id }, data: { state, ...(state === "rejected" ? { finishedAt: at } : {}) } });
    await appendAudit(tx, {
      actorId: actor.id,
      action: input.verdict === "approve" ? "rollout.approve" : "rollout.reject",
      target,
      detail: { digest: r.plan_digest, comment: input.comment ?? "", state },
    });
    return { state };
  });
}
