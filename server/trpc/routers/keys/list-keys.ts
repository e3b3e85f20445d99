import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listSigningKeys } from "@/server/services/keys/list-signing-keys";
import { ZSigningKey } from "./schemas";

/** Signing keys with their public halves (private halves never leave the server). */
export const listKeysRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .output(z.array(ZSigningKey))
  .query(({ ctx }) => listSigningKeys({ db: ctx.db }));
