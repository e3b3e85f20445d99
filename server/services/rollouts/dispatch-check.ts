// The policy, asked again with the real time, right before a rollout starts and before each host
// step is dispatched: a window that has closed, a policy that changed, or approvals that expired
// stop the rollout from going further.
import type { PrismaClient } from "@prisma/client";
import { evaluatePolicy } from "../policy/evaluate-policy";
import { getActivePolicy } from "../policy/get-active-policy";
import { countValidApprovals } from "./count-approvals";
import { rolloutPolicyRequest } from "./policy-request";
import type { RolloutPlan } from "./types";

export type DispatchVerdict = { ok: true } | { ok: false; reason: string };

export async function checkDispatch(
  db: PrismaClient,
  r: { id: string; plan: unknown; planDigest: string; createdById: string },
  at: Date,
): Promise<DispatchVerdict> {
  const requester = await db.user.findUnique({ where: { id: r.createdById }, select: { id: true, roles: true, disabled: true } });
  if (!requester || requester.disabled) return { ok: false, reason: "the requester's account is disabled" };
  const policy = await getActivePolicy({ db });
  const plan = r.plan as RolloutPlan;
  const decision = evaluatePolicy(policy.document, await rolloutPolicyRequest(db, requester, plan, at, false));
  if (decision.effect === "deny") return { ok: false, reason: decision.reasons.join("; ") };
  if (decision.effect === "needs_approval") {
    const { count } = await countValidApprovals(db, r, at);
    if (count < decision.approvals)
      return {
        ok: false,
        reason: `needs ${decision.approvals} valid approval(s) from ${decision.approverRole}, has ${count} (approvals expire or lapse when the plan changes)`,
      };
  }
  return { ok: true };
}
