import { z } from "zod";
import { procedureFor } from "../../init";
import { revokeUserSessions } from "../../../services/users/revoke-user-sessions";
import { ZUserIdRequest } from "./schemas";

export const revokeSessionsRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(z.object({ revoked: z.number().int() }))
  .mutation(({ ctx, input }) => revokeUserSessions({ db: ctx.db, actorId: ctx.user.id, userId: input.userId }));
