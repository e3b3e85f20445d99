import { procedureFor } from "../../init";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { releaseDeps } from "@/server/services/releases/deps";
import { ZCreateKeyRequest, ZCreateKeyResponse } from "./schemas";

/** A new console signing key; it signs the releases built or re-signed from now on. */
export const createKeyRoute = procedureFor(["admin"])
  .input(ZCreateKeyRequest)
  .output(ZCreateKeyResponse)
  .mutation(async ({ ctx, input }) => {
    const k = await createSigningKey(releaseDeps(ctx.db, ctx.user.id), input);
    return { keyId: k.keyId, name: k.name, publicKeyLine: k.publicKeyLine };
  });
