import { z } from "zod";
import { procedureFor } from "../../init";
import { setGroupMembers } from "@/server/services/hosts/set-group-members";

/** Add/remove hosts of a static group. Audited. */
export const setMembersRoute = procedureFor(["admin", "operator"])
  .input(z.strictObject({ groupId: z.uuid(), add: z.array(z.uuid()).max(10_000).optional(), remove: z.array(z.uuid()).max(10_000).optional() }))
  .output(z.object({ added: z.number(), removed: z.number() }))
  .mutation(({ ctx, input }) => setGroupMembers({ db: ctx.db }, { ...input, actorId: ctx.user.id }));
