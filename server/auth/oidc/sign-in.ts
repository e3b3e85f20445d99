// Sign-in through the provider: authorization code + PKCE (S256), state and nonce
// (openid-client checks the ID token's signature, issuer, audience, expiry and nonce). The state is
// also kept in an HttpOnly cookie, so an answer is accepted only in the browser that asked, and the
// sign-in row is deleted when it is answered, so a code is never exchanged twice. First sign-in makes
// the account (linked to issuer + subject, never by e-mail); every sign-in applies groups → roles.
import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@prisma/client";
import * as client from "openid-client";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { SecretBox } from "@/server/services/keys/secret-box";
import type { Auth } from "@/server/auth/auth";
import { providerConfig } from "./client";
import { applyDirectoryRoles } from "./directory-roles";
import { reasonOf } from "./errors";
import { groupsOf, rolesForGroups } from "./role-map";
import { createSessionCookie } from "./session-cookie";
import type { OidcSettings } from "./settings";

export const STATE_COOKIE = "keel_oidc_state";
export const CALLBACK_PATH = "/api/auth/oidc/callback";
export const LOGIN_TTL_MS = 10 * 60_000;
export const SCOPE = "openid email profile offline_access";

export type OidcDeps = {
  db: PrismaClient;
  auth: Auth;
  secret: string;
  baseURL: string;
  box: () => SecretBox;
  settings: () => Promise<OidcSettings | null>;
};

/** A local path to return to after sign-in, or "/". */
export function safeLocalPath(next: string | null): string {
  return next && /^\/(?![/\\])[A-Za-z0-9/_\-.~%?=&]*$/.test(next) && !next.startsWith("/sign-in")
    ? next
    : "/";
}

function redirect(to: string, cookies: string[] = []): Response {
  const h = new Headers({ location: to, "cache-control": "no-store" });
  for (const c of cookies) h.append("set-cookie", c);
  return new Response(null, { status: 303, headers: h });
}

function cookieOf(req: Request, name: string): string | null {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

const clearState = (secure: boolean) =>
  `${STATE_COOKIE}=; Path=/api/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;

export function sealRefreshToken(
  box: SecretBox,
  userId: string,
  token: string | undefined,
): Uint8Array<ArrayBuffer> | null {
  return token ? new Uint8Array(box.seal(Buffer.from(token, "utf8"), `oidc-refresh:${userId}`)) : null;
}

/**
 * Records what the directory just said of a linked user (at sign-in or a recheck): their groups,
 * whether any role is left, when, and a new refresh token if one came. Without roles, their
 * sessions end.
 */
export async function confirmLink(
  tx: Prisma.TransactionClient,
  box: () => SecretBox,
  userId: string,
  said: { groups: string[]; roles: readonly string[]; at: Date; refreshToken: string | undefined },
): Promise<void> {
  await tx.oidcLink.update({
    where: { userId },
    data: {
      groups: said.groups,
      state: said.roles.length ? "active" : "no_roles",
      confirmedAt: said.at,
      checkedAt: said.at,
      ...(said.refreshToken
        ? { refreshTokenSealed: sealRefreshToken(box(), userId, said.refreshToken) }
        : {}),
    },
  });
  if (!said.roles.length) await tx.session.deleteMany({ where: { userId } });
}

const unreadable = (e: unknown): undefined => {
  console.error(`keel: the identity provider's settings cannot be read: ${(e as Error).message}`);
  return undefined;
};

export function createOidcSignIn(deps: OidcDeps) {
  const secure = deps.baseURL.startsWith("https:");
  const failed = async (reason: string, ip: string, target?: string) => {
    await appendAudit(deps.db, {
      actorId: null,
      action: "auth.sign_in_failed",
      target,
      detail: { ip, reason, via: "oidc" },
    });
    return redirect(`/sign-in?oidc_error=${encodeURIComponent(reason)}`, [clearState(secure)]);
  };

  async function start(req: Request, ip: string): Promise<Response> {
    const settings = await deps.settings().catch(unreadable);
    if (settings === undefined) return failed("bad_settings", ip);
    if (!settings) return failed("not_configured", ip);
    let config: client.Configuration;
    try {
      config = await providerConfig(settings);
    } catch (e) {
      return failed(reasonOf(e), ip);
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const next = safeLocalPath(new URL(req.url).searchParams.get("next"));
    await deps.db.oidcLogin.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    await deps.db.oidcLogin.create({
      data: { state, nonce, codeVerifier, next, expiresAt: new Date(Date.now() + LOGIN_TTL_MS) },
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${deps.baseURL}${CALLBACK_PATH}`,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return redirect(url.href, [
      `${STATE_COOKIE}=${state}; Path=/api/auth/oidc; Max-Age=${LOGIN_TTL_MS / 1000}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`,
    ]);
  }

  async function callback(req: Request, ip: string): Promise<Response> {
    const url = new URL(req.url);
    const state = url.searchParams.get("state");
    if (!state || cookieOf(req, STATE_COOKIE) !== state) return failed("bad_state", ip);
    // Deleting the row is what makes the answer single-use: a replayed callback finds nothing.
    const login = await deps.db.oidcLogin.delete({ where: { state } }).catch(() => null);
    if (!login || login.expiresAt < new Date()) return failed("replayed_or_expired", ip);
    const settings = await deps.settings().catch(unreadable);
    if (settings === undefined) return failed("bad_settings", ip);
    if (!settings) return failed("not_configured", ip);
    let claims: client.IDToken;
    let groups: string[];
    let refreshToken: string | undefined;
    try {
      const config = await providerConfig(settings);
      const tokens = await client.authorizationCodeGrant(
        config,
        new URL(`${deps.baseURL}${CALLBACK_PATH}${url.search}`),
        {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        },
      );
      claims = tokens.claims()!;
      refreshToken = tokens.refresh_token;
      groups = await groupsFor(config, settings, claims, tokens.access_token);
    } catch (e) {
      return failed(reasonOf(e), ip);
    }
    const outcome = await signInLinked(deps, settings, claims, groups, refreshToken);
    if ("reason" in outcome) return failed(outcome.reason, ip, outcome.target);
    await appendAudit(deps.db, {
      actorId: outcome.userId,
      action: "auth.sign_in",
      target: `user:${outcome.email}`,
      detail: { ip, via: "oidc", issuer: settings.issuer },
    });
    const cookie = await createSessionCookie(deps.auth, deps.secret, outcome.userId, req.headers).catch(
      () => null,
    );
    if (!cookie) return failed("disabled", ip, `user:${outcome.email}`);
    return redirect(login.next, [cookie, clearState(secure)]);
  }

  return { start, callback };
}

/** The user's groups: from the ID token, or from userinfo when the ID token does not carry the claim. */
export async function groupsFor(
  config: client.Configuration,
  s: OidcSettings,
  claims: Record<string, unknown>,
  accessToken: string,
): Promise<string[]> {
  if (s.groupClaim in claims || !config.serverMetadata().userinfo_endpoint)
    return groupsOf(claims, s.groupClaim);
  const info = await client.fetchUserInfo(config, accessToken, String(claims.sub));
  return groupsOf(info as Record<string, unknown>, s.groupClaim);
}

type Linked = { userId: string; email: string } | { reason: string; target?: string };

/** Finds or makes the account of (issuer, subject), applies the groups, records the refresh token. */
async function signInLinked(
  deps: OidcDeps,
  s: OidcSettings,
  claims: client.IDToken,
  groups: string[],
  refreshToken: string | undefined,
): Promise<Linked> {
  const wanted = rolesForGroups(groups, s.roleMap);
  return deps.db.$transaction(async (tx) => {
    const link = await tx.oidcLink.findUnique({
      where: { issuer_subject: { issuer: claims.iss, subject: claims.sub } },
      include: { user: true },
    });
    let user = link?.user ?? null;
    if (!user) {
      if (wanted.length === 0) return { reason: "no_roles" };
      const email = (
        typeof claims.email === "string" && claims.email.includes("@")
          ? claims.email
          : `${claims.sub}@${new URL(claims.iss).hostname}`
      ).toLowerCase();
      // Never joined by e-mail: a local account with this e-mail stays separate and the sign-in is refused.
      if (await tx.user.findUnique({ where: { email }, select: { id: true } }))
        return { reason: "email_taken", target: `user:${email}` };
      const name =
        typeof claims.name === "string" && claims.name.trim() ? claims.name.trim().slice(0, 200) : email;
      user = await tx.user.create({
        data: { id: randomUUID(), email, name, roles: [], emailVerified: true },
      });
      await tx.oidcLink.create({ data: { userId: user.id, issuer: claims.iss, subject: claims.sub } });
      await appendAudit(tx, {
        actorId: null,
        action: "user.create",
        target: `user:${email}`,
        detail: { via: "oidc", issuer: claims.iss, subject: claims.sub, groups },
      });
    }
    const target = `user:${user.email}`;
    if (user.disabled) return { reason: "disabled", target };
    const { roles } = await applyDirectoryRoles(tx, user, wanted, s, "sign_in");
    await confirmLink(tx, deps.box, user.id, { groups, roles, at: new Date(), refreshToken });
    if (!roles.length) return { reason: "no_roles", target };
    return { userId: user.id, email: user.email };
  });
}
