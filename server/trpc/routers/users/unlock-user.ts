import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZUserIdRequest } from "./schemas";

/** Forgets a user's failed sign-ins (the sign-in backoff); a manage_users action for the policy. */
export const unlockUserRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(z.object({ email: z.string(), hadFailures: z.boolean() }))
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "users.unlock", input));
