import { procedureFor } from "@/server/trpc/init";
import { setAppTarget } from "@/server/services/inventory/hosts/set-app-target";
import { ZSetAppTargetRequest, ZSetTargetResponse } from "./schemas";

/** Set (or clear with version null) the version an app should run in a scope. Audited. */
export const setTargetRoute = procedureFor(["admin", "operator"])
  .input(ZSetAppTargetRequest)
  .output(ZSetTargetResponse)
  .mutation(({ ctx, input }) => setAppTarget({ db: ctx.db }, { ...input, actorId: ctx.user.id }));
