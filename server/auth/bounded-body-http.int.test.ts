// RELIABILITY case 32: bodies without a length, bodies over the limit and anonymous uploads are
// refused at the limit without reading the rest, and the console's memory stays flat. Real HTTP
// to the real route handlers of /api/auth, /api/trpc and /api/releases/upload, behind the body
// guard Keel's HTTP server runs (infra/start/body-guard.ts), on a real PostgreSQL. The server runs
// in this process, so its resident set size is this process's (read from /proc/self/status);
// the client streams from one reused buffer.
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createUser } from "@/server/services/users/create-user";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createReleaseUploadHandler } from "@/server/services/releases/upload-handler";
import { createAuth } from "./auth";
import { createAuthHandler } from "./auth-handler";
import { BODY_LIMITS, KIB, MIB } from "./bounded-body";
import { rawPost, rssBytes, serveHandlers, type Served } from "./raw-http";
import { SignInThrottle } from "./sign-in-throttle";

let t: TestDatabase;
let db: PrismaClient;
let served: Served;
let origin: string;
const tokens: Record<string, string> = {};
/** What the console may grow by while refusing a body, whatever the body's size. */
const RSS_BOUND = 64 * MIB;

function lastRead(): number {
  return served.readPerConnection[served.readPerConnection.length - 1]!;
}
/** Figures for the report (bytes read off the connection, RSS growth), printed at the end. */
const figures: string[] = [];
const mib = (n: number) => `${(n / MIB).toFixed(2)} MiB`;
async function closedConnections(n: number): Promise<void> {
  await expect.poll(() => served.readPerConnection.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(n);
}

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  served = await serveHandlers((p) => route(p));
  origin = `http://127.0.0.1:${served.port}`;
  const auth = createAuth({ db, secret: randomBytes(32).toString("hex"), baseURL: origin });
  const handlers = {
    auth: createAuthHandler({ db, auth, trustedOrigins: [origin], throttle: new SignInThrottle() }),
    trpc: createTRPCHandler({ db, auth, trustedOrigins: [origin] }),
    upload: createReleaseUploadHandler({ db, auth, trustedOrigins: [origin] }),
  };
  // Any other route: one that reads its whole body, like Next's own endpoints might.
  const greedy = async (r: Request) => new Response(`read ${(await r.arrayBuffer()).byteLength} bytes`);
  route = (p) =>
    p.startsWith("/api/auth/")
      ? handlers.auth
      : p.startsWith("/api/trpc/")
        ? handlers.trpc
        : p === "/api/releases/upload"
          ? handlers.upload
          : greedy;
  for (const role of ["admin", "auditor"] as const) {
    const { user } = await createUser({
      db,
      actorId: null,
      input: {
        email: `${role}@keel.local`,
        name: role,
        roles: [role],
        password: `${role} password for the limits`,
      },
    });
    tokens[role] = (await createApiToken({ db, userId: user.id, name: "t" })).token;
  }
});
let route: (p: string) => ((r: Request) => Promise<Response>) | null = () => null;

afterAll(async () => {
  console.info(`bounded bodies:\n  ${figures.join("\n  ")}`);
  await served?.close();
  await db?.$disconnect();
  await t?.drop();
});

describe("bounded bodies over real HTTP (case 32)", () => {
  it("answers normal requests as before", async () => {
    const ok = await rawPost(served.port, "/api/auth/sign-in/email", {
      headers: { "content-type": "application/json", origin, connection: "close" },
      head: Buffer.from(
        JSON.stringify({ email: "admin@keel.local", password: "admin password for the limits" }),
      ),
      size: 0,
      declare: true,
    });
    expect(ok.status).toBe(200);
  });

  it("a 50 MB chunked sign-in body: 413 at 64 KiB, audited, memory flat", async () => {
    const before = rssBytes();
    const n = served.readPerConnection.length;
    const r = await rawPost(served.port, "/api/auth/sign-in/email", {
      headers: { "content-type": "application/json", origin },
      size: 50 * 1000 * 1000,
    });
    expect(r.status).toBe(413);
    // The route's own answer (the server's cap, further on, says "limited … here").
    expect(JSON.parse(r.body).error.message).toMatch(/^Request bodies are limited to 64 KiB/);
    expect(r.complete).toBe(false);
    await closedConnections(n + 1);
    // What the server read off the socket: the limit and at most one socket read past it.
    figures.push(
      `sign-in 50 MB chunked: ${r.status}, read ${mib(lastRead())}, sent ${mib(r.sent)}, RSS ${mib(rssBytes() - before)}`,
    );
    expect(lastRead()).toBeLessThan(BODY_LIMITS.auth + 384 * KIB);
    expect(rssBytes() - before).toBeLessThan(RSS_BOUND);
    const audited = await db.auditEvent.findMany({ where: { action: "auth.sign_in_failed" } });
    expect(audited.map((a) => (a.detail as { reason?: string }).reason)).toContain("too_large");
  });

  it("a 200 MB chunked tRPC body from an auditor: 413 at 1 MiB, memory flat", async () => {
    const before = rssBytes();
    const n = served.readPerConnection.length;
    const r = await rawPost(served.port, "/api/trpc/users.create", {
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.auditor}` },
      size: 200 * 1000 * 1000,
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.message).toMatch(/^Request bodies are limited to 1 MiB/);
    await closedConnections(n + 1);
    figures.push(
      `tRPC 200 MB chunked: ${r.status}, read ${mib(lastRead())}, sent ${mib(r.sent)}, RSS ${mib(rssBytes() - before)}`,
    );
    expect(lastRead()).toBeLessThan(BODY_LIMITS.trpc + 384 * KIB);
    expect(rssBytes() - before).toBeLessThan(RSS_BOUND);
  });

  it("a declared length over the limit is refused before the body is read", async () => {
    const n = served.readPerConnection.length;
    const r = await rawPost(served.port, "/api/trpc/users.create", {
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.admin}` },
      size: 20 * MIB,
      declare: true,
      chunk: 4 * KIB,
    });
    expect(r.status).toBe(413);
    await closedConnections(n + 1);
    expect(lastRead()).toBeLessThan(128 * KIB);
  });

  it("any other route is capped by the server itself, even when the route reads everything", async () => {
    const before = rssBytes();
    const n = served.readPerConnection.length;
    const r = await rawPost(served.port, "/hosts", {
      headers: { "content-type": "text/plain" },
      size: 100 * 1000 * 1000,
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.message).toMatch(/^Request bodies here are limited to 1 MiB/);
    await closedConnections(n + 1);
    figures.push(
      `other route 100 MB chunked: ${r.status}, read ${mib(lastRead())}, RSS ${mib(rssBytes() - before)}`,
    );
    expect(lastRead()).toBeLessThan(BODY_LIMITS.other + 384 * KIB);
    expect(rssBytes() - before).toBeLessThan(RSS_BOUND);
  });

  const refusedUploads: [string, Record<string, string>, number, RegExp][] = [
    ["anonymous", { "content-type": "application/octet-stream" }, 401, /Sign in first/],
    [
      "a bad token",
      { "content-type": "application/octet-stream", authorization: "Bearer keel_nope" },
      401,
      /not valid/,
    ],
    [
      "an auditor",
      { "content-type": "application/octet-stream", authorization: "Bearer AUDITOR" },
      403,
      /needs the role admin or operator/,
    ],
    [
      "a browser from another site",
      { "content-type": "application/octet-stream", cookie: "x=1" },
      401,
      /Sign in first/,
    ],
  ];
  for (const declare of [true, false]) {
    it.each(refusedUploads)(
      `an upload by %s (${declare ? "declared length" : "chunked"}): refused after at most 64 KiB read`,
      async (_who, headers, status, message) => {
        const h = { ...headers };
        if (h.authorization === "Bearer AUDITOR") h.authorization = `Bearer ${tokens.auditor}`;
        const n = served.readPerConnection.length;
        // A slow writer: 16 KiB at a time, waiting for the socket each time.
        const r = await rawPost(served.port, "/api/releases/upload?mode=push", {
          headers: { ...h, "x-keel-manifest-bytes": "100" },
          size: 200 * 1000 * 1000,
          chunk: 16 * KIB,
          declare,
        });
        expect(r.status).toBe(status);
        expect(JSON.parse(r.body).error.message).toMatch(message);
        expect(r.complete).toBe(false);
        await closedConnections(n + 1);
        figures.push(
          `upload by ${_who} (${declare ? "declared" : "chunked"}): ${r.status}, read ${lastRead()} bytes, sent ${mib(r.sent)}`,
        );
        // Headers included: the server read no more than 64 KiB off this connection.
        expect(lastRead()).toBeLessThanOrEqual(BODY_LIMITS.uploadRefused);
      },
    );
  }
});
