import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZSetRolesRequest, ZUserSummary } from "./schemas";

export const setRolesRoute = procedureFor(["admin"])
  .input(ZSetRolesRequest)
  .output(ZUserSummary)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "users.setRoles", input));
