import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { z } from "zod";
import { ZRemoveRequest } from "./schemas";

/** Remove (retire) a host: it leaves the inventory, its history and timeline stay. Admin-only, audited. */
export const removeHostRoute = procedureFor(["admin"])
  .input(ZRemoveRequest)
  .output(z.object({ id: z.string(), name: z.string(), retiredAt: z.date() }))
  .mutation(({ ctx, input }) =>
    governed(ctx.services.govern(ctx.db), ctx.user, "hosts.remove", { id: input.id }),
  );
