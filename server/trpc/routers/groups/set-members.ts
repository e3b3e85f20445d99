import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";

/** Add/remove hosts of a static group. Audited. */
export const setMembersRoute = procedureFor(["admin", "operator"])
  .input(
    z.strictObject({
      groupId: z.uuid(),
      add: z.array(z.uuid()).max(10_000).optional(),
      remove: z.array(z.uuid()).max(10_000).optional(),
    }),
  )
  .output(z.object({ added: z.number(), removed: z.number() }))
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "groups.setMembers", input));
