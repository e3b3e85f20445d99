import { procedureFor } from "../../init";
import { setHostEnvironment } from "@/server/services/hosts/set-host-environment";
import { ZSetEnvironmentRequest, ZUpdated } from "./schemas";

/** Move selected hosts to an environment. */
export const setEnvironmentRoute = procedureFor(["admin", "operator"])
  .input(ZSetEnvironmentRequest)
  .output(ZUpdated)
  .mutation(({ ctx, input }) => setHostEnvironment({ db: ctx.db }, { ...input, actorId: ctx.user.id }));
