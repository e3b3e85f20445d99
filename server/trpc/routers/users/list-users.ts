import { procedureFor } from "../../init";
import { listUsers } from "../../../services/users/list-users";
import { ZListUsersResponse } from "./schemas";

export const listUsersRoute = procedureFor(["admin"])
  .output(ZListUsersResponse)
  .query(({ ctx }) => listUsers({ db: ctx.db }));
