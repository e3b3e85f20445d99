import { procedureFor } from "../../init";
import { enrollHost } from "@/server/services/hosts/enroll-host";
import { inventoryDeps } from "@/server/services/inventory/deps";
import { ZEnrollRequest, ZEnrollResponse } from "./schemas";

/** Step 2: pin the accepted key, install signing keys, collect facts. Admin-only, audited. */
export const enrollHostRoute = procedureFor(["admin"])
  .input(ZEnrollRequest)
  .output(ZEnrollResponse)
  .mutation(({ ctx, input }) => enrollHost(inventoryDeps(ctx.db), { ...input, actorId: ctx.user.id, via: "console" }));
