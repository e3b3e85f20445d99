import { z } from "zod";
import { procedureFor } from "../../init";
import { unlockSignIn } from "../../../auth/unlock-sign-in";
import { ZUserIdRequest } from "./schemas";

/** Forgets a user's failed sign-ins (the sign-in backoff), e.g. after an attack on the account. */
export const unlockUserRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(z.object({ email: z.string(), hadFailures: z.boolean() }))
  .mutation(({ ctx, input }) => unlockSignIn({ db: ctx.db, actorId: ctx.user.id, userId: input.userId }));
