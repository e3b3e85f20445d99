import { z } from "zod";
import { procedureFor } from "../../init";
import { repinHostKey } from "@/server/services/hosts/repin-host-key";
import { inventoryDeps } from "@/server/services/inventory/deps";
import { ZRepinRequest } from "./schemas";

/** Accept a host's new key after it changed. Admin-only, audited. */
export const repinHostRoute = procedureFor(["admin"])
  .input(ZRepinRequest)
  .output(z.object({ name: z.string(), fingerprint: z.string() }))
  .mutation(({ ctx, input }) => repinHostKey(inventoryDeps(ctx.db), { ...input, actorId: ctx.user.id }));
