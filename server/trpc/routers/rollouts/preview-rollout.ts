// The plan and the policy's answer for a spec, without creating anything (the create form's preview).
// A mutation: planning may make incremental streams (btrfs send, cached) on the console.
import { procedureFor } from "@/server/trpc/init";
import { decideRollout } from "@/server/services/rollouts/create-rollout";
import { ZPreviewOut } from "./query-outputs";
import { ZRolloutSpec } from "./schemas";

export const previewRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZRolloutSpec)
  .output(ZPreviewOut)
  .mutation(async ({ ctx, input }) => {
    // Makes the incremental streams the plan needs (once, cached), so the preview shows what
    // creating the rollout will plan.
    const { plan, digest, decision, policy } = await decideRollout(ctx.db, ctx.user, input, {
      at: new Date(),
      audit: false,
      releases: ctx.services.releases(ctx.db, ctx.user.id),
    });
    return { plan, digest, decision, policyVersion: policy.version };
  });
