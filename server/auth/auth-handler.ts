// The HTTP entry of /api/auth/*: better-auth behind Keel's own checks. Only the endpoints the
// console uses are reachable; every POST must be same-origin JSON; e-mail sign-in is rate limited
// per client address and per account (failures only, so signing in often is fine) with one
// generic message, and every sign-in and failed sign-in goes to the audit log.
import type { PrismaClient } from "@prisma/client";
import { appendAudit } from "../services/audit/append-audit";
import { AUTH_BASE_PATH, type Auth } from "./auth";
import { RateLimiter, type Limit } from "./rate-limit";
import { clientIp, jsonError, refuseCrossSiteWrite } from "./request-guard";

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

export type SignInLimits = { perIp: Limit; perAccount: Limit };
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perIp: { max: 20, windowMs: 10 * 60_000 },
  perAccount: { max: 5, windowMs: 15 * 60_000 },
};

export function createAuthHandler(deps: {
  db: PrismaClient;
  auth: Auth;
  trustedOrigins: string[];
  trustProxy?: boolean;
  limits?: SignInLimits;
}) {
  const limits = deps.limits ?? DEFAULT_SIGN_IN_LIMITS;
  const byIp = new RateLimiter(limits.perIp);
  const byAccount = new RateLimiter(limits.perAccount);

  async function signIn(req: Request, ip: string): Promise<Response> {
    const body = (await req
      .clone()
      .json()
      .catch(() => null)) as { email?: unknown } | null;
    const email = typeof body?.email === "string" ? body.email.trim().toLowerCase() : "";
    const wait = Math.max(byIp.retryAfter(ip), email ? byAccount.retryAfter(email) : 0);
    if (wait > 0) {
      return jsonError(429, "TOO_MANY_ATTEMPTS", `Too many failed sign-in attempts. Try again in ${Math.ceil(wait / 60)} minute(s).`, {
        "retry-after": String(wait),
      });
    }
    const res = await deps.auth.handler(req);
    if (res.ok) {
      const data = (await res.clone().json().catch(() => null)) as { user?: { id?: string } } | null;
      if (email) byAccount.reset(email);
      await appendAudit(deps.db, { actorId: data?.user?.id ?? null, action: "auth.sign_in", target: `user:${email}`, detail: { ip } });
      return res;
    }
    byIp.hit(ip);
    if (email) byAccount.hit(email);
    const reason = res.status === 403 ? "disabled" : res.status === 400 ? "malformed" : "bad_credentials";
    await appendAudit(deps.db, {
      actorId: null,
      action: "auth.sign_in_failed",
      target: email ? `user:${email}` : undefined,
      detail: { ip, reason },
    });
    // One message for every failure: it must not tell whether the account exists or is disabled.
    return jsonError(res.status === 400 ? 400 : 401, "INVALID_EMAIL_OR_PASSWORD", SIGN_IN_FAILED);
  }

  return async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.startsWith(AUTH_BASE_PATH) ? url.pathname.slice(AUTH_BASE_PATH.length) : url.pathname;
    if (!ALLOWED.has(`${req.method} ${path}`)) return jsonError(404, "NOT_FOUND", `no such endpoint: ${req.method} ${url.pathname}`);
    const refused = refuseCrossSiteWrite(req, { trustedOrigins: deps.trustedOrigins, hasToken: false });
    if (refused) return refused;
    if (path === "/sign-in/email") return signIn(req, clientIp(req.headers, deps.trustProxy));
    return deps.auth.handler(req);
  };
}
