// better-auth's endpoints behind Keel's checks (server/auth/auth-handler.ts).
import { getAuth } from "@/server/auth/auth";
import { createAuthHandler } from "@/server/auth/auth-handler";
import { db } from "@/server/db";
import { getEnv, trustedOrigins } from "@/server/env";
import { oidcRoutesFromEnv } from "@/server/auth/oidc/routes";

export const dynamic = "force-dynamic";

let handler: ((req: Request) => Promise<Response>) | undefined;
function handle(req: Request): Promise<Response> {
  handler ??= createAuthHandler({
    db,
    auth: getAuth(),
    trustedOrigins: trustedOrigins(),
    trustProxy: getEnv().KEEL_TRUST_PROXY,
    oidc: oidcRoutesFromEnv(db, getAuth()),
  });
  return handler(req);
}

export { handle as GET, handle as POST };
