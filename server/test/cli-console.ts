// The console the CLI tests talk to: a test database, the real tRPC handler on a real HTTP port,
// and two users with API tokens, an admin (admin@keel.local) and an auditor (aud@keel.local).
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "./db";
import { serveHandler } from "./serve-handler";
import { createDb } from "@/server/db";
import { createAuth } from "@/server/auth/auth";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createUser } from "@/server/services/users/create-user";
import { createApiToken } from "@/server/services/tokens/create-api-token";

export interface CliConsole {
  t: TestDatabase;
  db: PrismaClient;
  url: string;
  tokens: { admin: string; auditor: string };
  /** Stops the server and drops the database. */
  stop(): Promise<void>;
}

export async function startCliConsole(): Promise<CliConsole> {
  const t = await createTestDatabase();
  const db = createDb(t.url);
  // The handler needs the server's URL (its trusted origin), so it is plugged in after listening.
  const route: { trpc?: (r: Request) => Promise<Response> } = {};
  const server = await serveHandler((p) => (p.startsWith("/api/trpc") ? route.trpc : undefined));
  route.trpc = createTRPCHandler({
    db,
    auth: createAuth({ db, secret: randomBytes(32).toString("hex"), baseURL: server.url }),
    trustedOrigins: [server.url],
  });
  const tokenOf = async (email: string, name: string, role: "admin" | "auditor") => {
    const { user } = await createUser({ db, actorId: null, input: { email, name, roles: [role] } });
    return (await createApiToken({ db, userId: user.id, name: "cli" })).token;
  };
  const tokens = {
    admin: await tokenOf("admin@keel.local", "Admin", "admin"),
    auditor: await tokenOf("aud@keel.local", "Aud", "auditor"),
  };
  const stop = async () => {
    await server.close();
    await db.$disconnect();
    await t.drop();
  };
  return { t, db, url: server.url, tokens, stop };
}
