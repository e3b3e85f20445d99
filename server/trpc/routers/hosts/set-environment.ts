import { procedureFor } from "../../init";
import { governed } from "@/server/services/policy/governed/govern";
import { governDeps } from "@/server/services/policy/governed/deps";
import { ZSetEnvironmentRequest, ZUpdated } from "./schemas";

/** Move selected hosts to an environment. */
export const setEnvironmentRoute = procedureFor(["admin", "operator"])
  .input(ZSetEnvironmentRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) => governed(governDeps(ctx.db), ctx.user, "hosts.setEnvironment", input));
