import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import { ZSetEnvironmentRequest, ZUpdated } from "./schemas";

/** Move selected hosts to an environment. */
export const setEnvironmentRoute = procedureFor(["admin", "operator"])
  .input(ZSetEnvironmentRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) =>
    governed(ctx.services.govern(ctx.db), ctx.user, "hosts.setEnvironment", input),
  );
