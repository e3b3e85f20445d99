import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZUserIdRequest, ZUserSummary } from "./schemas";

export const enableUserRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(ZUserSummary)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "users.enable", input));
