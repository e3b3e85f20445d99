import { procedureFor } from "../../init";
import { replanRollout } from "@/server/services/rollouts/replan-rollout";
import { ZReplanRollout } from "./schemas";

export const replanRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZReplanRollout)
  .mutation(({ ctx, input }) => replanRollout({ db: ctx.db }, ctx.user, input.rolloutId, input.spec));
