// The policy, asked again with the real time and the hosts' current environment, labels and groups,
// right before a rollout starts and before each host step is dispatched: a window that has closed,
// a policy that changed, approvals that expired — or a host that changed since the plan (its
// approvals then lapse: lapse-rollout.ts) — stop the rollout from going further.
import type { Prisma, PrismaClient } from "@prisma/client";
import { evaluatePolicy } from "@/server/services/policy/evaluate-policy";
import { getActivePolicy, type ActivePolicy } from "@/server/services/policy/get-active-policy";
import { countValidApprovals } from "./count-approvals";
import { liveFactChanges } from "./decision-facts";
import { rolloutPolicyRequest } from "./policy-request";
import { parseRolloutPlan } from "./plan-schema";

type Db = PrismaClient | Prisma.TransactionClient;

/** `changes`: what differs from the plan; the caller lapses the rollout with them. */
export type DispatchVerdict = { ok: true } | { ok: false; reason: string; changes?: string[] };

type Subject = { id: string; plan: unknown; planDigest: string; createdById: string };

/**
 * Everything read through `db` — pass a transaction to decide on one consistent view (start does,
 * under the rollout's row lock). `policy`: the active policy when the caller has read it already.
 */
export async function checkDispatch(
  db: Db,
  r: Subject,
  at: Date,
  policy?: ActivePolicy,
): Promise<DispatchVerdict> {
  const [state] = await db.$queryRaw<
    { lapse_reason: string | null }[]
  >`SELECT lapse_reason FROM rollouts WHERE id = ${r.id}::uuid`;
  if (state?.lapse_reason)
    return { ok: false, reason: `its approvals lapsed (${state.lapse_reason}); plan it again` };
  const plan = parseRolloutPlan(r.plan, r.id);
  const { live, changes } = await liveFactChanges(db, plan);
  if (changes.length > 0) return { ok: false, reason: changes.join("; "), changes };
  const requester = await db.user.findUnique({
    where: { id: r.createdById },
    select: { id: true, roles: true, disabled: true },
  });
  if (!requester || requester.disabled) return { ok: false, reason: "the requester's account is disabled" };
  const active = policy ?? (await getActivePolicy({ db: db as PrismaClient }));
  const decision = evaluatePolicy(
    active.document,
    await rolloutPolicyRequest(db, requester, plan, { at, assumeWindowsOpen: false, live }),
  );
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
