import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { ZImportKeyRequest, ZImportKeyResponse } from "./schemas";

/** Trusts an outside signer's public key for pushes. */
export const importKeyRoute = procedureFor(["admin"])
  .input(ZImportKeyRequest)
  .output(ZImportKeyResponse)
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "keys.import", input));
