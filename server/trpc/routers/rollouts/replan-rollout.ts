import { procedureFor } from "../../init";
import { releaseDeps } from "@/server/services/releases/deps";
import { replanRollout } from "@/server/services/rollouts/replan-rollout";
import { ZReplanRollout } from "./schemas";

export const replanRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZReplanRollout)
  .mutation(({ ctx, input }) => replanRollout({ db: ctx.db, releases: releaseDeps(ctx.db, ctx.user.id) }, ctx.user, input.rolloutId, input.spec));
