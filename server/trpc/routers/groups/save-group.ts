import { z } from "zod";
import { procedureFor } from "../../init";
import { saveGroup, ZSaveGroupRequest } from "@/server/services/hosts/save-group";

/** Create or change a static or filter group. Audited. */
export const saveGroupRoute = procedureFor(["admin", "operator"])
  .input(ZSaveGroupRequest)
  .output(z.object({ id: z.string(), name: z.string() }))
  .mutation(({ ctx, input }) => saveGroup({ db: ctx.db }, { ...input, actorId: ctx.user.id }));
