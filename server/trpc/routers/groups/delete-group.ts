import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";

/** Delete a group (members and group targets go with it). Admin-only, audited. */
export const deleteGroupRoute = procedureFor(["admin"])
  .input(z.strictObject({ id: z.uuid() }))
  .output(z.object({ name: z.string() }))
  .mutation(({ ctx, input }) =>
    governed(ctx.services.govern(ctx.db), ctx.user, "groups.delete", { id: input.id }),
  );
