// better-auth's endpoints behind Keel's checks (server/auth/auth-handler.ts).
import { createAuthHandler } from "@/server/auth/auth-handler";
import { oidcRoutesFromEnv } from "@/server/auth/oidc/routes";
import { lazyHandler } from "@/app/api/_lazy-handler";

export const dynamic = "force-dynamic";

const handle = lazyHandler((base) =>
  createAuthHandler({ ...base, oidc: oidcRoutesFromEnv(base.db, base.auth) }),
);

export { handle as GET, handle as POST };
