import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZEnrollRequest, ZEnrollResponse } from "./schemas";

/** Step 2: pin the accepted key, install signing keys, collect facts. Admin-only, audited. */
export const enrollHostRoute = procedureFor(["admin"])
  .input(ZEnrollRequest)
  .output(ZEnrollResponse)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "hosts.enroll", input));
