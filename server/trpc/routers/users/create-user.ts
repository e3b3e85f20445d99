import { procedureFor } from "../../init";
import { createUser } from "../../../services/users/create-user";
import { ZCreateUserRequest, ZCreateUserResponse } from "./schemas";

export const createUserRoute = procedureFor(["admin"])
  .input(ZCreateUserRequest)
  .output(ZCreateUserResponse)
  .mutation(({ ctx, input }) => createUser({ db: ctx.db, actorId: ctx.user.id, input }));
