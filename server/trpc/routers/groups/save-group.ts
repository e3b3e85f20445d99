import { z } from "zod";
import { ZSaveGroupRequest } from "@/server/services/inventory/hosts/save-group";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";

/** Create or change a static or filter group. Audited. */
export const saveGroupRoute = procedureFor(["admin", "operator"])
  .input(ZSaveGroupRequest)
  .output(z.object({ id: z.string(), name: z.string() }))
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "groups.save", input));
