// The whole API. Register each feature's router here; the browser imports only `type AppRouter`.
import { createCallerFactory, router } from "./init";
import { auditRouter } from "./routers/audit/router";
import { meRouter } from "./routers/me/router";
import { tokensRouter } from "./routers/tokens/router";
import { usersRouter } from "./routers/users/router";
import { releasesRouter } from "./routers/releases/router";
import { keysRouter } from "./routers/keys/router";
import { rolloutsRouter } from "./routers/rollouts/router";
import { policyRouter } from "./routers/policy/router";
import { hostsRouter } from "./routers/hosts/router";
import { appsRouter } from "./routers/apps/router";
import { groupsRouter } from "./routers/groups/router";
import { settingsRouter } from "./routers/settings/router";
import { notificationsRouter } from "./routers/notifications/router";
import { oidcRouter } from "./routers/oidc/router";

export const appRouter = router({
  me: meRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
  releases: releasesRouter,
  keys: keysRouter,
  rollouts: rolloutsRouter,
  policy: policyRouter,
  hosts: hostsRouter,
  apps: appsRouter,
  groups: groupsRouter,
  settings: settingsRouter,
  notifications: notificationsRouter,
  oidc: oidcRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller (server components, tests): `createCaller(createContextInner({ db, user }))`. */
export const createCaller = createCallerFactory(appRouter);
