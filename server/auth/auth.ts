// better-auth, configured for Keel (docs/decisions/0001-auth.md): e-mail + password only, no
// self sign-up (admins create accounts), argon2id hashes, sessions stored in PostgreSQL and read
// from it on every request (no cookie cache), so revoking a session takes effect at once.
// Disabled users cannot start a session. Rate limiting of sign-in is done in ./auth-handler.ts.
import { randomUUID } from "node:crypto";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError } from "better-auth/api";
import type { PrismaClient } from "@prisma/client";
import { db as sharedDb } from "@/server/db";
import { getEnv, publicOrigin, trustedOrigins } from "@/server/env";
import { hashPassword, verifyPassword, PASSWORD_MAX, PASSWORD_MIN } from "./password";

export const AUTH_BASE_PATH = "/api/auth";
export const SESSION_DAYS = 7;

export function createAuth(opts: {
  db: PrismaClient;
  secret: string;
  baseURL: string;
  trustedOrigins?: string[];
}) {
  const { db } = opts;
  return betterAuth({
    appName: "Keel",
    baseURL: opts.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: opts.secret,
    trustedOrigins: opts.trustedOrigins ?? [new URL(opts.baseURL).origin],
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: PASSWORD_MIN,
      maxPasswordLength: PASSWORD_MAX,
      password: { hash: hashPassword, verify: verifyPassword },
    },
    session: {
      expiresIn: SESSION_DAYS * 86_400,
      updateAge: 86_400,
      cookieCache: { enabled: false },
    },
    // Keel rate-limits sign-in itself (per address and per account, see auth-handler.ts).
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: "error" },
    advanced: {
      database: { generateId: () => randomUUID() },
      useSecureCookies: opts.baseURL.startsWith("https:"),
    },
    databaseHooks: {
      session: {
        create: {
          before: async (session) => {
            const user = await db.user.findUnique({
              where: { id: session.userId },
              select: { disabled: true },
            });
            if (!user || user.disabled) throw new APIError("FORBIDDEN", { message: "account disabled" });
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

const globalForAuth = globalThis as unknown as { keelAuth?: Auth };

/** The console's better-auth instance (shared database, secret and origin from the environment). */
export function getAuth(): Auth {
  if (globalForAuth.keelAuth) return globalForAuth.keelAuth;
  const env = getEnv();
  if (!env.KEEL_SECRET)
    throw new Error("KEEL_SECRET is not set: start the console with `npm start`, which generates one");
  return (globalForAuth.keelAuth = createAuth({
    db: sharedDb,
    secret: env.KEEL_SECRET,
    baseURL: publicOrigin(env),
    trustedOrigins: trustedOrigins(env),
  }));
}
