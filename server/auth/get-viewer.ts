// Who is calling: a browser session (better-auth's cookie, checked against PostgreSQL on every
// request) or an API token (`Authorization: Bearer keel_…`). Disabled users are nobody, and so are
// accounts the identity provider no longer vouches for.
import type { PrismaClient } from "@prisma/client";
import type { ViewerUser } from "./roles";
import { resolveApiToken } from "@/server/services/tokens/resolve-api-token";
import type { Auth } from "./auth";
import { directoryRefusal } from "./oidc/gate";

export type Viewer = {
  user: ViewerUser;
  session: { id: string; expiresAt: Date } | null;
  via: "session" | "token";
  tokenId: string | null;
};

/** The bearer token of an `Authorization` header, or null when there is none. */
export function bearerToken(headers: Headers): string | null {
  const h = headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : "";
}

export async function getViewer(
  headers: Headers,
  deps: { db: PrismaClient; auth: Auth },
): Promise<Viewer | null> {
  const token = bearerToken(headers);
  if (token !== null) {
    // A presented token is the whole identity: a bad one does not fall back to the cookie.
    const owner = await resolveApiToken({ db: deps.db, token });
    if (!owner || (await directoryRefusal(deps.db, owner.user.id))) return null;
    return { user: owner.user, session: null, via: "token", tokenId: owner.tokenId };
  }
  const found = await deps.auth.api.getSession({ headers });
  if (!found) return null;
  const user = await deps.db.user.findUnique({
    where: { id: found.user.id },
    select: { id: true, email: true, name: true, roles: true, disabled: true },
  });
  if (!user || user.disabled) return null;
  // Accounts from the identity provider act only while it vouches for them (./oidc/gate.ts).
  if (await directoryRefusal(deps.db, user.id)) return null;
  const { disabled: _disabled, ...rest } = user;
  return {
    user: rest,
    session: { id: found.session.id, expiresAt: found.session.expiresAt },
    via: "session",
    tokenId: null,
  };
}
