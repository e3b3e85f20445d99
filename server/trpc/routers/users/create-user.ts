import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { ZCreateUserRequest, ZCreateUserResponse } from "./schemas";

export const createUserRoute = procedureFor(["admin"])
  .input(ZCreateUserRequest)
  .output(ZCreateUserResponse)
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "users.create", input));
