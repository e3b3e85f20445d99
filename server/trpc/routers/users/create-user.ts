import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZCreateUserRequest, ZCreateUserResponse } from "./schemas";

export const createUserRoute = procedureFor(["admin"])
  .input(ZCreateUserRequest)
  .output(ZCreateUserResponse)
  .mutation(({ ctx, input }) => governed(ctx.services.govern(ctx.db), ctx.user, "users.create", input));
