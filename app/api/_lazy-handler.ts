// A route handler made on its first request (so that `next build` needs no database or secret),
// from the checks every API handler takes: database, auth, trusted origins and proxy trust.
import { getAuth } from "@/server/auth/auth";
import { db } from "@/server/db";
import { getEnv, trustedOrigins } from "@/server/env";

type Handler = (req: Request) => Promise<Response>;
export type HandlerBase = {
  db: typeof db;
  auth: ReturnType<typeof getAuth>;
  trustedOrigins: ReturnType<typeof trustedOrigins>;
  trustProxy: ReturnType<typeof getEnv>["KEEL_TRUST_PROXY"];
};

export function lazyHandler(make: (base: HandlerBase) => Handler): Handler {
  let handler: Handler | undefined;
  return (req) => {
    handler ??= make({
      db,
      auth: getAuth(),
      trustedOrigins: trustedOrigins(),
      trustProxy: getEnv().KEEL_TRUST_PROXY,
    });
    return handler(req);
  };
}
