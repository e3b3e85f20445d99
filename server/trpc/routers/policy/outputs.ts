// What the policy procedures that answer with a decision or a state declare (`.output()`), and
// the policy's decision as the client sees it (shared with the rollouts procedures).
import { z } from "zod";
import { ROLES } from "@/server/auth/roles";

const common = { reasons: z.array(z.string()), policies: z.array(z.string()) };
export const ZPolicyDecisionOut = z.discriminatedUnion("effect", [
  z.looseObject({ effect: z.literal("allow"), ...common }),
  z.looseObject({
    effect: z.literal("needs_approval"),
    approvals: z.number().int(),
    approverRole: z.enum(ROLES),
    ...common,
  }),
  z.looseObject({ effect: z.literal("deny"), ...common }),
]);

const ZDigest = z.string().regex(/^[0-9a-f]{64}$/);
const ZVersionState = z.enum(["proposed", "active", "superseded", "rejected"]);

export const ZProposedPolicyOut = z.strictObject({
  id: z.uuid(),
  version: z.number().int(),
  state: z.string().pipe(ZVersionState),
  digest: ZDigest,
  decision: ZPolicyDecisionOut,
});
export const ZAnsweredPolicyOut = z.strictObject({ state: z.string().pipe(ZVersionState) });
export const ZValidatedPolicyOut = z.strictObject({ ok: z.boolean(), errors: z.array(z.string()) });
export const ZTestedPolicyOut = z.union([
  z.strictObject({ ok: z.literal(false), errors: z.array(z.string()) }),
  z.strictObject({
    ok: z.literal(true),
    rollout: z.number().int(),
    proposed: ZPolicyDecisionOut,
    current: ZPolicyDecisionOut,
  }),
]);
