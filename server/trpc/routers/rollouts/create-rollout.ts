import { procedureFor } from "@/server/trpc/init";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { ZCreatedRolloutOut } from "./outputs";
import { ZRolloutSpec } from "./schemas";

export const createRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZRolloutSpec)
  .output(ZCreatedRolloutOut)
  .mutation(async ({ ctx, input }) => {
    const r = await createRollout(
      { db: ctx.db, releases: ctx.services.releases(ctx.db, ctx.user.id) },
      ctx.user,
      input,
    );
    return { id: r.id, number: r.number, state: r.state, digest: r.digest, decision: r.decision };
  });
