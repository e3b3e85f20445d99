import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZSetLabelsRequest, ZUpdated } from "./schemas";

/** Set/remove labels on selected hosts. */
export const setLabelsRoute = procedureFor(["admin", "operator"])
  .input(ZSetLabelsRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "hosts.setLabels", input));
