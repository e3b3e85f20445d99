import { procedureFor } from "../../init";
import { removeHost } from "@/server/services/hosts/remove-host";
import { z } from "zod";
import { ZRemoveRequest } from "./schemas";

/** Remove a host and its history from the inventory. Admin-only, audited. */
export const removeHostRoute = procedureFor(["admin"])
  .input(ZRemoveRequest)
  .output(z.object({ name: z.string() }))
  .mutation(({ ctx, input }) => removeHost({ db: ctx.db }, { actorId: ctx.user.id, id: input.id }));
