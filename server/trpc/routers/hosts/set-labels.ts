import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { ZSetLabelsRequest, ZUpdated } from "./schemas";

/** Set/remove labels on selected hosts. */
export const setLabelsRoute = procedureFor(["admin", "operator"])
  .input(ZSetLabelsRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "hosts.setLabels", input));
