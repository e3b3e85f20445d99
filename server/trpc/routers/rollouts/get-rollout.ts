import { procedureFor } from "@/server/trpc/init";
import { getRollout } from "@/server/services/rollouts/get-rollout";
import { ZRolloutDetailOut } from "./query-outputs";
import { ZRolloutId } from "./schemas";

export const getRolloutRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZRolloutId)
  .output(ZRolloutDetailOut)
  .query(({ ctx, input }) => getRollout({ db: ctx.db }, input.rolloutId));
