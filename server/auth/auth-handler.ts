// The HTTP entry of /api/auth/*: better-auth behind Keel's own checks. Only the endpoints the
// console uses are reachable; every POST must be same-origin JSON, at most 64 KiB, read whether
// or not its length was declared, holding only valid text (./bounded-body.ts). E-mail sign-in is
// throttled per client address and per account (./sign-in-throttle.ts) with one generic message;
// password changes are checked for strength and rate limited per user; sign-outs are rate
// limited per address. Every sign-in, failed sign-in, password change (or failed one) and
// sign-out goes to the audit log.
import type { PrismaClient } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { AUTH_BASE_PATH, type Auth } from "./auth";
import { BODY_LIMITS, readBoundedJson } from "./bounded-body";
import { passwordWeakness } from "./password-strength";
import { RateLimiter, type Limit } from "./rate-limit";
import { clientIp, jsonError, refuseCrossSiteWrite } from "./request-guard";
import { signInThrottle, type SignInThrottle } from "./sign-in-throttle";
import type { OidcRoutes } from "./oidc/routes";

const ALLOWED = new Set([
  "GET /get-session",
  "GET /ok",
  "GET /error",
  "POST /sign-in/email",
  "POST /sign-out",
  "POST /change-password",
  "GET /list-sessions",
  "POST /revoke-session",
  "POST /revoke-other-sessions",
]);

export const SIGN_IN_FAILED = "Wrong e-mail or password, or the account is disabled.";

export type AuthLimits = { changePassword: Limit; signOut: Limit };
export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  /** Per user, every attempt: a stolen session must not become a password-guessing oracle. */
  changePassword: { max: 5, windowMs: 15 * 60_000 },
  /** Per client address. */
  signOut: { max: 30, windowMs: 60_000 },
};

function tooMany(what: string, seconds: number): Response {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  const when = seconds < 90 ? plural(seconds, "second") : plural(Math.ceil(seconds / 60), "minute");
  return jsonError(429, "TOO_MANY_ATTEMPTS", `${what} Try again in ${when}.`, {
    "retry-after": String(seconds),
  });
}

export function createAuthHandler(deps: {
  db: PrismaClient;
  auth: Auth;
  trustedOrigins: string[];
  trustProxy?: boolean;
  throttle?: SignInThrottle;
  limits?: AuthLimits;
  /** Sign-in through the organisation's identity provider (./oidc/routes.ts), when wired. */
  oidc?: OidcRoutes;
}) {
  const throttle = deps.throttle ?? signInThrottle();
  const limits = deps.limits ?? DEFAULT_AUTH_LIMITS;
  const passwordChanges = new RateLimiter(limits.changePassword);
  const signOuts = new RateLimiter(limits.signOut);
  const audit = (e: Parameters<typeof appendAudit>[1]) => appendAudit(deps.db, e);

  async function signIn(req: Request, ip: string, body: { email?: unknown } | null): Promise<Response> {
    const email = typeof body?.email === "string" ? body.email.trim().toLowerCase() : "";
    const off = await deps.oidc?.refuseLocal(email);
    if (off) {
      await audit({
        actorId: null,
        action: "auth.sign_in_failed",
        target: email ? `user:${email}` : undefined,
        detail: { ip, reason: "local_sign_in_off" },
      });
      return jsonError(403, "LOCAL_SIGN_IN_OFF", off, { "x-keel-error": "LOCAL_SIGN_IN_OFF" });
    }
    const wait = throttle.waitMs(ip, email);
    if (wait > 0) return tooMany("Too many failed sign-in attempts.", Math.ceil(wait / 1000));
    const res = await deps.auth.handler(req);
    if (res.ok) {
      const data = (await res
        .clone()
        .json()
        .catch(() => null)) as { user?: { id?: string } } | null;
      throttle.succeeded(ip, email);
      await audit({
        actorId: data?.user?.id ?? null,
        action: "auth.sign_in",
        target: `user:${email}`,
        detail: { ip },
      });
      return res;
    }
    throttle.failed(ip, email);
    const reason = res.status === 403 ? "disabled" : res.status === 400 ? "malformed" : "bad_credentials";
    await audit({
      actorId: null,
      action: "auth.sign_in_failed",
      target: email ? `user:${email}` : undefined,
      detail: { ip, reason },
    });
    // One message for every failure: it must not tell whether the account exists or is disabled.
    return jsonError(res.status === 400 ? 400 : 401, "INVALID_EMAIL_OR_PASSWORD", SIGN_IN_FAILED);
  }

  async function signOut(req: Request, ip: string): Promise<Response> {
    if (!signOuts.hit(ip)) return tooMany("Too many sign-outs from this address.", signOuts.retryAfter(ip));
    const found = await deps.auth.api.getSession({ headers: req.headers }).catch(() => null);
    const res = await deps.auth.handler(req);
    if (res.ok && found)
      await audit({
        actorId: found.user.id,
        action: "auth.sign_out",
        target: `user:${found.user.email}`,
        detail: { ip },
      });
    return res;
  }

  async function changePassword(
    req: Request,
    ip: string,
    body: { newPassword?: unknown } | null,
  ): Promise<Response> {
    const found = await deps.auth.api.getSession({ headers: req.headers }).catch(() => null);
    if (!found) return jsonError(401, "UNAUTHORIZED", "Sign in first.");
    const who = { actorId: found.user.id, target: `user:${found.user.email}` };
    if (!passwordChanges.hit(found.user.id)) {
      await audit({ ...who, action: "auth.password_change_failed", detail: { ip, reason: "rate_limited" } });
      return tooMany("Too many password changes.", passwordChanges.retryAfter(found.user.id));
    }
    if (typeof body?.newPassword === "string") {
      const weak = passwordWeakness(body.newPassword, [found.user.email, found.user.name]);
      if (weak) {
        await audit({ ...who, action: "auth.password_change_failed", detail: { ip, reason: "weak" } });
        return jsonError(400, "PASSWORD_TOO_WEAK", weak);
      }
    }
    const res = await deps.auth.handler(req);
    await audit({
      ...who,
      action: res.ok ? "auth.password_change" : "auth.password_change_failed",
      detail: res.ok
        ? { ip }
        : { ip, reason: res.status === 400 ? "wrong_current_password" : `http_${res.status}` },
    });
    return res;
  }

  return async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.startsWith(AUTH_BASE_PATH)
      ? url.pathname.slice(AUTH_BASE_PATH.length)
      : url.pathname;
    const ip0 = clientIp(req.headers, deps.trustProxy);
    if (req.method === "GET" && deps.oidc && path === "/oidc/start") return deps.oidc.start(req, ip0);
    if (req.method === "GET" && deps.oidc && path === "/oidc/callback") return deps.oidc.callback(req, ip0);
    if (!ALLOWED.has(`${req.method} ${path}`))
      return jsonError(404, "NOT_FOUND", `no such endpoint: ${req.method} ${url.pathname}`);
    const refused = refuseCrossSiteWrite(req, { trustedOrigins: deps.trustedOrigins, hasToken: false });
    if (refused) return refused;
    const ip = clientIp(req.headers, deps.trustProxy);
    if (req.method !== "POST") return deps.auth.handler(req);
    const read = await readBoundedJson(req, BODY_LIMITS.auth);
    if (!read.ok) {
      if (path === "/sign-in/email") {
        // A refused sign-in body counts as a failure of its address, and is audited like one.
        throttle.failed(ip, "");
        await audit({ actorId: null, action: "auth.sign_in_failed", detail: { ip, reason: read.reason } });
      }
      return read.response;
    }
    const body =
      read.value && typeof read.value === "object" ? (read.value as Record<string, unknown>) : null;
    if (path === "/sign-in/email") return signIn(read.request, ip, body);
    if (path === "/sign-out") return signOut(read.request, ip);
    if (path === "/change-password") return changePassword(read.request, ip, body);
    return deps.auth.handler(read.request);
  };
}
