import { procedureFor } from "../../init";
import { releaseDeps } from "@/server/services/releases/deps";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { ZRolloutSpec } from "./schemas";

export const createRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZRolloutSpec)
  .mutation(async ({ ctx, input }) => {
    const r = await createRollout({ db: ctx.db, releases: releaseDeps(ctx.db, ctx.user.id) }, ctx.user, input);
    return { id: r.id, number: r.number, state: r.state, digest: r.digest, decision: r.decision };
  });
