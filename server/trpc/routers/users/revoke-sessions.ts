import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZUserIdRequest } from "./schemas";

export const revokeSessionsRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(z.object({ revoked: z.number().int() }))
  .mutation(({ ctx, input }) =>
    governed(ctx.services.govern(ctx.db), ctx.user, "users.revokeSessions", input),
  );
