import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZRepinRequest } from "./schemas";

/** Accept a host's new key after it changed. Admin-only, audited. */
export const repinHostRoute = procedureFor(["admin"])
  .input(ZRepinRequest)
  .output(z.object({ name: z.string(), fingerprint: z.string() }))
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "hosts.repin", input));
