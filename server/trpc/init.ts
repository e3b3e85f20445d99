// tRPC foundation: the request context and the ONLY procedure builders routers may use.
// Authorization by construction: every procedure is built from `procedureFor(roles)`,
// `signedInProcedure` or `publicProcedure`, each of which records who may call it in the
// procedure's meta; one middleware enforces it on every call and refuses procedures that
// declare nothing. The auditor role never grants a mutation. server/trpc/authz.test.ts walks
// the whole router to keep it that way (RELIABILITY.md case 17).
import { initTRPC, TRPCError } from "@trpc/server";
import type { PrismaClient } from "@prisma/client";
import superjson from "superjson";
import { AppError, formatError, toTRPCError } from "@/server/errors";
import { getAuth } from "@/server/auth/auth";
import { getViewer } from "@/server/auth/get-viewer";
import { clientIp } from "@/server/auth/request-guard";
import { findInvalidText } from "@/server/auth/valid-text";
import { db as sharedDb } from "@/server/db";
import { getEnv } from "@/server/env";
import { consoleServices, type Services } from "@/server/services/compose";
import type { Role, ViewerUser } from "@/server/auth/roles";

export { ROLES, type Role, type ViewerUser } from "@/server/auth/roles";

/** Who may call a procedure: any of these roles, any signed-in user, or anyone. */
export type Access = readonly Role[] | "signed-in" | "public";
export type Meta = { roles: Access };

export type Context = {
  db: PrismaClient;
  user: ViewerUser | null;
  /** The browser session, when the caller came with a session cookie. */
  session: { id: string; expiresAt: Date } | null;
  /** How the caller proved who they are. */
  via: "session" | "token" | null;
  /** The API token's id, when via === "token". */
  tokenId: string | null;
  /** Client address (for rate limits and the audit log). */
  ip: string;
  /** The service dependencies (server/services/compose.ts), built once per process. */
  services: Services;
};

/** Builds a context directly; tests use it with createCaller. */
export function createContextInner(opts: {
  db: PrismaClient;
  user?: ViewerUser | null;
  session?: Context["session"];
  via?: Context["via"];
  tokenId?: string | null;
  ip?: string;
  services?: Services;
}): Context {
  return {
    db: opts.db,
    user: opts.user ?? null,
    session: opts.session ?? null,
    via: opts.user ? (opts.via ?? "session") : null,
    tokenId: opts.tokenId ?? null,
    ip: opts.ip ?? "unknown",
    // Reads no settings until a procedure uses a store, key or SSH.
    services: opts.services ?? consoleServices(),
  };
}

/** The context of an HTTP or server-component call: who is calling, from the request's headers. */
export async function createContext(opts: { headers: Headers; db?: PrismaClient }): Promise<Context> {
  const db = opts.db ?? sharedDb;
  const viewer = await getViewer(opts.headers, { db, auth: getAuth() });
  return createContextInner({
    db,
    user: viewer?.user ?? null,
    session: viewer?.session ?? null,
    via: viewer?.via ?? null,
    tokenId: viewer?.tokenId ?? null,
    ip: clientIp(opts.headers, getEnv().KEEL_TRUST_PROXY),
  });
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({ transformer: superjson, errorFormatter: formatError });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Whether `access` lets `user` call a procedure of this type. Shared with the tests and the UI. */
export function isAllowed(access: Access | undefined, user: ViewerUser | null, type: string): boolean {
  if (access === undefined) return false;
  if (access === "public") return true;
  if (!user) return false;
  if (access === "signed-in") return true;
  // An auditor reads; the role never grants a change, whatever a procedure lists.
  const granting = type === "mutation" ? access.filter((r) => r !== "auditor") : access;
  return user.roles.some((r) => granting.includes(r));
}

const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) throw toTRPCError(result.error.cause);
  return result;
});

const authorize = t.middleware(({ ctx, meta, type, path, next }) => {
  const access = meta?.roles;
  if (access === undefined)
    throw new TRPCError({ code: "FORBIDDEN", message: `${path} declares no roles, so nobody may call it` });
  if (access !== "public" && !ctx.user)
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  if (!isAllowed(access, ctx.user, type)) {
    const need = Array.isArray(access)
      ? access.filter((r) => type !== "mutation" || r !== "auditor").join(" or ")
      : access;
    throw new TRPCError({ code: "FORBIDDEN", message: `${path} needs the role ${need}.` });
  }
  return next();
});

// Every string in every input (and every object key) must be valid text: a NUL or a lone
// surrogate is refused here with 400 and the field's path, before any procedure's own schema
// or PostgreSQL (which cannot store NUL, and failed with a 500) sees it.
const validText = t.middleware(async ({ getRawInput, next }) => {
  const bad = findInvalidText(await getRawInput());
  if (bad !== null) {
    const field = bad.replace(/^json\.?/, "") || "(input)";
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `Refused: the field ${field} holds invalid text (a NUL character, a lone surrogate or invalid UTF-8).`,
    });
  }
  return next();
});

const base = t.procedure.use(appErrors).use(authorize).use(validText);
// Past `authorize`, a non-public procedure always has a user; this tells the types so.
const withUser = base.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { user: ctx.user } });
});

/** A procedure callable by users holding any of `roles` (auditor is ignored for mutations). */
export function procedureFor(roles: readonly [Role, ...Role[]]) {
  return withUser.meta({ roles });
}
export const roleProcedure = procedureFor;

/** Any signed-in user, whatever their roles: only for things about the caller's own account. */
export const signedInProcedure = withUser.meta({ roles: "signed-in" });

/** Anyone, signed in or not. Rare: think twice. */
export const publicProcedure = base.meta({ roles: "public" });
