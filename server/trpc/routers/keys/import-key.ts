import { procedureFor } from "../../init";
import { importPublicKey } from "@/server/services/keys/import-public-key";
import { ZImportKeyRequest, ZImportKeyResponse } from "./schemas";

/** Trusts an outside signer's public key for pushes. */
export const importKeyRoute = procedureFor(["admin"])
  .input(ZImportKeyRequest)
  .output(ZImportKeyResponse)
  .mutation(({ ctx, input }) => importPublicKey({ db: ctx.db, actorId: ctx.user.id }, input));
