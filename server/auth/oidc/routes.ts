// What the auth handler (../auth-handler.ts) needs from sign-in through the provider: the two
// browser routes and the rule on local sign-in (off except for the break-glass account).
import type { PrismaClient } from "@prisma/client";
import { getEnv, publicOrigin } from "@/server/env";
import { consoleServices } from "@/server/services/compose";
import type { Auth } from "@/server/auth/auth";
import { oidcMessage } from "./errors";
import { loadOidcSettings } from "./settings";
import { createOidcSignIn, type OidcDeps } from "./sign-in";

export type OidcRoutes = {
  start(req: Request, ip: string): Promise<Response>;
  callback(req: Request, ip: string): Promise<Response>;
  /** Why a password sign-in with this e-mail is refused (null: allowed). */
  refuseLocal(email: string): Promise<string | null>;
};

export function createOidcRoutes(deps: OidcDeps): OidcRoutes {
  const flow = createOidcSignIn(deps);
  return {
    ...flow,
    async refuseLocal(email) {
      const s = await deps.settings().catch(() => null);
      if (!s || s.localSignIn || email === s.breakGlassEmail) return null;
      return oidcMessage("local_sign_in_off");
    },
  };
}

/** The running console's routes (settings from the environment and the database). */
export function oidcRoutesFromEnv(db: PrismaClient, auth: Auth): OidcRoutes {
  const env = getEnv();
  const box = () => consoleServices().box;
  return createOidcRoutes({
    db,
    auth,
    secret: env.KEEL_SECRET!,
    baseURL: publicOrigin(env),
    box,
    settings: () => loadOidcSettings({ db, env, box }),
  });
}
