// The plan and the policy's answer for a spec, without creating anything (the create form's preview).
import { procedureFor } from "../../init";
import { decideRollout } from "@/server/services/rollouts/create-rollout";
import { ZRolloutSpec } from "./schemas";

export const previewRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZRolloutSpec)
  .query(async ({ ctx, input }) => {
    const { plan, digest, decision, policy } = await decideRollout(ctx.db, ctx.user, input, new Date(), undefined, { audit: false });
    return { plan, digest, decision, policyVersion: policy.version };
  });
