import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZImportKeyRequest, ZImportKeyResponse } from "./schemas";

/** Trusts an outside signer's public key for pushes. */
export const importKeyRoute = procedureFor(["admin"])
  .input(ZImportKeyRequest)
  .output(ZImportKeyResponse)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "keys.import", input));
