import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { z } from "zod";
import { ZRemoveRequest } from "./schemas";

/** Remove (retire) a host: it leaves the inventory, its history and timeline stay. Admin-only, audited. */
export const removeHostRoute = procedureFor(["admin"])
  .input(ZRemoveRequest)
  .output(z.object({ id: z.string(), name: z.string(), retiredAt: z.date() }))
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "hosts.remove", { id: input.id }));
