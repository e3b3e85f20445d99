import { procedureFor } from "../../init";
import { removeHost } from "@/server/services/hosts/remove-host";
import { z } from "zod";
import { ZRemoveRequest } from "./schemas";

/** Remove (retire) a host: it leaves the inventory, its history and timeline stay. Admin-only, audited. */
export const removeHostRoute = procedureFor(["admin"])
  .input(ZRemoveRequest)
  .output(z.object({ id: z.string(), name: z.string(), retiredAt: z.date() }))
  .mutation(({ ctx, input }) => removeHost({ db: ctx.db }, { actorId: ctx.user.id, id: input.id }));
