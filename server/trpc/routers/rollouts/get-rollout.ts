import { procedureFor } from "../../init";
import { getRollout } from "@/server/services/rollouts/get-rollout";
import { ZRolloutId } from "./schemas";

export const getRolloutRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZRolloutId)
  .query(({ ctx, input }) => getRollout({ db: ctx.db }, input.rolloutId));
