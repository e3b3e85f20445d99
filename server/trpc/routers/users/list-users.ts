import { procedureFor } from "@/server/trpc/init";
import { listUsers } from "@/server/services/users/list-users";
import { ZListUsersResponse } from "./schemas";

export const listUsersRoute = procedureFor(["admin"])
  .output(ZListUsersResponse)
  .query(({ ctx }) => listUsers({ db: ctx.db }));
