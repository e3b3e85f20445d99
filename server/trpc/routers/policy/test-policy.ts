// Dry run: what would this (edited) policy say about an existing rollout, next to what the policy in
// force says. Validation errors come back as a list instead of an exception, for the editor.
import { procedureFor } from "@/server/trpc/init";
import { AppError } from "@/server/errors";
import { evaluatePolicy } from "@/server/services/policy/evaluate-policy";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { parsePolicy } from "@/server/services/policy/parse-policy";
import { rolloutPolicyRequest } from "@/server/services/rollouts/policy-request";
import { parseRolloutPlan } from "@/server/services/rollouts/plan-schema";
import { ZTestedPolicyOut, ZValidatedPolicyOut } from "./outputs";
import { ZPolicyDocument, ZTestPolicy } from "./schemas";

export const validatePolicyRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZPolicyDocument)
  .output(ZValidatedPolicyOut)
  .query(({ input }) => {
    const r = parsePolicy(input);
    return r.ok ? { ok: true as const, errors: [] } : { ok: false as const, errors: r.errors };
  });

export const testPolicyRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZTestPolicy)
  .output(ZTestedPolicyOut)
  .query(async ({ ctx, input }) => {
    const parsed = parsePolicy(input.document);
    if (!parsed.ok) return { ok: false as const, errors: parsed.errors };
    const r = await ctx.db.rollout.findUnique({
      where: { id: input.rolloutId },
      select: { plan: true, createdById: true, number: true },
    });
    if (!r) throw new AppError("NOT_FOUND", { message: "no such rollout" });
    const requester = await ctx.db.user.findUnique({
      where: { id: r.createdById },
      select: { id: true, roles: true },
    });
    const req = await rolloutPolicyRequest(
      ctx.db,
      requester ?? { id: r.createdById, roles: [] },
      parseRolloutPlan(r.plan, r.number),
      { at: input.at ?? new Date(), assumeWindowsOpen: false },
    );
    const active = await getActivePolicy({ db: ctx.db });
    return {
      ok: true as const,
      rollout: r.number,
      proposed: evaluatePolicy(input.document, req),
      current: evaluatePolicy(active.document, req),
    };
  });
