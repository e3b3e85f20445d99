import { procedureFor } from "@/server/trpc/init";
import { replanRollout } from "@/server/services/rollouts/replan-rollout";
import { ZReplannedRolloutOut } from "./outputs";
import { ZReplanRollout } from "./schemas";

export const replanRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZReplanRollout)
  .output(ZReplannedRolloutOut)
  .mutation(({ ctx, input }) =>
    replanRollout(
      { db: ctx.db, releases: ctx.services.releases(ctx.db, ctx.user.id) },
      ctx.user,
      input.rolloutId,
      input.spec,
    ),
  );
