import { router } from "@/server/trpc/init";
import { createUserRoute } from "./create-user";
import { disableUserRoute } from "./disable-user";
import { enableUserRoute } from "./enable-user";
import { listUsersRoute } from "./list-users";
import { revokeSessionsRoute } from "./revoke-sessions";
import { setRolesRoute } from "./set-roles";
import { unlockUserRoute } from "./unlock-user";

export const usersRouter = router({
  list: listUsersRoute,
  create: createUserRoute,
  setRoles: setRolesRoute,
  disable: disableUserRoute,
  enable: enableUserRoute,
  revokeSessions: revokeSessionsRoute,
  unlock: unlockUserRoute,
});
