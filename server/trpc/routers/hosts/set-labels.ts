import { procedureFor } from "../../init";
import { setHostLabels } from "@/server/services/hosts/set-host-labels";
import { ZSetLabelsRequest, ZUpdated } from "./schemas";

/** Set/remove labels on selected hosts. */
export const setLabelsRoute = procedureFor(["admin", "operator"])
  .input(ZSetLabelsRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) => setHostLabels({ db: ctx.db }, { ...input, actorId: ctx.user.id }));
