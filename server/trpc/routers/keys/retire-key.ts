import { procedureFor } from "../../init";
import { retireSigningKey } from "@/server/services/keys/retire-signing-key";
import { ZRetireKeyRequest, ZRetireKeyResponse } from "./schemas";

/** Retires a key (no new releases; hosts keep trusting it) or, with `remove`, drops it everywhere. */
export const retireKeyRoute = procedureFor(["admin"])
  .input(ZRetireKeyRequest)
  .output(ZRetireKeyResponse)
  .mutation(({ ctx, input }) => retireSigningKey({ db: ctx.db, actorId: ctx.user.id }, input));
