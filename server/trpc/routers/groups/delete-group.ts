import { z } from "zod";
import { procedureFor } from "../../init";
import { deleteGroup } from "@/server/services/hosts/delete-group";

/** Delete a group (members and group targets go with it). Admin-only, audited. */
export const deleteGroupRoute = procedureFor(["admin"])
  .input(z.strictObject({ id: z.uuid() }))
  .output(z.object({ name: z.string() }))
  .mutation(({ ctx, input }) => deleteGroup({ db: ctx.db }, { actorId: ctx.user.id, id: input.id }));
