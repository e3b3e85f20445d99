import { procedureFor } from "@/server/trpc/init";
import { fetchHostKey } from "@/server/services/inventory/hosts/fetch-host-key";
import { ZFetchHostKeyRequest, ZFetchHostKeyResponse } from "./schemas";

/** Step 1 of enrolling: the key the host presents, for the admin to compare and accept. */
export const fetchHostKeyRoute = procedureFor(["admin"])
  .input(ZFetchHostKeyRequest)
  .output(ZFetchHostKeyResponse)
  .mutation(({ ctx, input }) => fetchHostKey(ctx.services.inventory(ctx.db), input));
