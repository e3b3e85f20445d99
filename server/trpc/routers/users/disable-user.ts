import { procedureFor } from "../../init";
import { setUserDisabled } from "../../../services/users/set-user-disabled";
import { ZUserIdRequest, ZUserSummary } from "./schemas";

export const disableUserRoute = procedureFor(["admin"])
  .input(ZUserIdRequest)
  .output(ZUserSummary)
  .mutation(({ ctx, input }) => setUserDisabled({ db: ctx.db, actorId: ctx.user.id, userId: input.userId, disabled: true }));
