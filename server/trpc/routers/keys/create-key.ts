import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZCreateKeyRequest, ZCreateKeyResponse } from "./schemas";

/** A new console signing key; it signs the releases built or re-signed from now on. */
export const createKeyRoute = procedureFor(["admin"])
  .input(ZCreateKeyRequest)
  .output(ZCreateKeyResponse)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "keys.create", input));
