// tRPC over HTTP (server/trpc/http-handler.ts does the checks). Built on first request so that
// `next build` needs no database or secret.
import { getAuth } from "@/server/auth/auth";
import { db } from "@/server/db";
import { getEnv, trustedOrigins } from "@/server/env";
import { createTRPCHandler } from "@/server/trpc/http-handler";

export const dynamic = "force-dynamic";

let handler: ((req: Request) => Promise<Response>) | undefined;
function handle(req: Request): Promise<Response> {
  handler ??= createTRPCHandler({
    db,
    auth: getAuth(),
    trustedOrigins: trustedOrigins(),
    trustProxy: getEnv().KEEL_TRUST_PROXY,
  });
  return handler(req);
}

export { handle as GET, handle as POST };
