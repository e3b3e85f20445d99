import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZRetireKeyRequest, ZRetireKeyResponse } from "./schemas";

/** Retires a key (no new releases; hosts keep trusting it) or, with `remove`, drops it everywhere. */
export const retireKeyRoute = procedureFor(["admin"])
  .input(ZRetireKeyRequest)
  .output(ZRetireKeyResponse)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "keys.retire", input));
