import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { ZSetRolesRequest, ZUserSummary } from "./schemas";

export const setRolesRoute = procedureFor(["admin"])
  .input(ZSetRolesRequest)
  .output(ZUserSummary)
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "users.setRoles", input));
