import { procedureFor } from "../../init";
import { setUserRoles } from "../../../services/users/set-user-roles";
import { ZSetRolesRequest, ZUserSummary } from "./schemas";

export const setRolesRoute = procedureFor(["admin"])
  .input(ZSetRolesRequest)
  .output(ZUserSummary)
  .mutation(({ ctx, input }) => setUserRoles({ db: ctx.db, actorId: ctx.user.id, userId: input.userId, roles: input.roles }));
