import { procedureFor } from "@/server/trpc/init";
import { listRollouts } from "@/server/services/rollouts/list-rollouts";
import { ZRolloutListOut } from "./query-outputs";
import { ZListRollouts } from "./schemas";

export const listRolloutsRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZListRollouts)
  .output(ZRolloutListOut)
  .query(({ ctx, input }) => listRollouts({ db: ctx.db }, input));
