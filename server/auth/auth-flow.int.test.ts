// Sign-in, sessions, API tokens and request guards through the real HTTP handlers (the same
// ones app/api/* serves), on a real PostgreSQL.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDb } from "@/server/db";
import { createAuth } from "./auth";
import { createAuthHandler, SIGN_IN_FAILED } from "./auth-handler";
import { DEFAULT_THROTTLE, SignInThrottle } from "./sign-in-throttle";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createUser } from "@/server/services/users/create-user";

const ORIGIN = "http://127.0.0.1:39123";
let t: TestDatabase;
let db: PrismaClient;
let authHandler: (r: Request) => Promise<Response>;
let trpcHandler: (r: Request) => Promise<Response>;
let auth: ReturnType<typeof createAuth>;
const adminPassword = "correct horse battery staple";

function signIn(email: string, password: string, ip = "10.0.0.1"): Promise<Response> {
  return authHandler(
    new Request(`${ORIGIN}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, "x-keel-client-ip": ip },
      body: JSON.stringify({ email, password }),
    }),
  );
}

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tRPC's wire JSON, asserted field by field
type Wire = any;
type Call = { cookie?: string; token?: string; origin?: string | null; contentType?: string; ip?: string };
function headersFor(c: Call): Record<string, string> {
  const h: Record<string, string> = { "x-keel-client-ip": c.ip ?? "10.0.0.2" };
  if (c.cookie) h.cookie = c.cookie;
  if (c.token) h.authorization = `Bearer ${c.token}`;
  if (c.origin !== null) h.origin = c.origin ?? ORIGIN;
  return h;
}
async function query(path: string, input: unknown, c: Call) {
  const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const res = await trpcHandler(new Request(`${ORIGIN}/api/trpc/${path}${q}`, { headers: headersFor(c) }));
  return { status: res.status, body: (await res.json()) as Wire };
}
async function mutate(path: string, input: unknown, c: Call) {
  const res = await trpcHandler(
    new Request(`${ORIGIN}/api/trpc/${path}`, {
      method: "POST",
      headers: { ...headersFor(c), "content-type": c.contentType ?? "application/json" },
      body: JSON.stringify({ json: input }),
    }),
  );
  return { status: res.status, body: (await res.json()) as Wire };
}
async function auditActions(): Promise<string[]> {
  return (await db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { action: true } })).map(
    (r) => r.action,
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  auth = createAuth({ db, secret: randomBytes(32).toString("hex"), baseURL: ORIGIN });
  // The account backoff starts at one minute here, so that "still waiting" needs no timing.
  const throttle = new SignInThrottle({
    ...DEFAULT_THROTTLE,
    account: { ...DEFAULT_THROTTLE.account, baseMs: 60_000 },
  });
  authHandler = createAuthHandler({ db, auth, trustedOrigins: [ORIGIN], throttle });
  trpcHandler = createTRPCHandler({ db, auth, trustedOrigins: [ORIGIN] });
  await createUser({
    db,
    actorId: null,
    input: { email: "admin@keel.local", name: "Admin", roles: ["admin"], password: adminPassword },
  });
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

describe("sign-in and sessions", () => {
  it("signs in with the right password, and whoami answers through the session cookie", async () => {
    const res = await signIn("admin@keel.local", adminPassword);
    expect(res.status).toBe(200);
    const cookie = cookieOf(res);
    expect(cookie).toContain("session_token");
    const me = await query("me.whoami", undefined, { cookie });
    expect(me.status).toBe(200);
    expect(me.body.result.data.json).toMatchObject({
      email: "admin@keel.local",
      roles: ["admin"],
      via: "session",
    });
    expect(await auditActions()).toContain("auth.sign_in");
  });

  it("gives one generic message for a wrong password and for an unknown account, and audits both", async () => {
    const wrong = await signIn("admin@keel.local", "not the password at all", "10.9.0.1");
    const unknown = await signIn("nobody@keel.local", "not the password at all", "10.9.0.2");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).error.message).toBe(SIGN_IN_FAILED);
    expect((await unknown.json()).error.message).toBe(SIGN_IN_FAILED);
    const failed = await db.auditEvent.findMany({ where: { action: "auth.sign_in_failed" } });
    expect(failed.map((f) => f.target)).toEqual(
      expect.arrayContaining(["user:admin@keel.local", "user:nobody@keel.local"]),
    );
  });

  it("slows a guesser after 5 failures (429 with Retry-After, even for the right password) without locking the owner out", async () => {
    await createUser({
      db,
      actorId: null,
      input: { email: "victim@keel.local", name: "V", roles: [], password: "victim password 123" },
    });
    for (let i = 0; i < 6; i++)
      expect((await signIn("victim@keel.local", `guess number ${i}xx`, "10.1.0.66")).status).toBe(401);
    const slowed = await signIn("victim@keel.local", "victim password 123", "10.1.0.66");
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers.get("retry-after"))).toBeGreaterThan(0);
    // The owner, from an address that has not been failing, still gets in.
    expect((await signIn("victim@keel.local", "victim password 123", "10.1.0.99")).status).toBe(200);
    // The guesser is still waiting.
    expect((await signIn("victim@keel.local", "victim password 123", "10.1.0.66")).status).toBe(429);
  });

  it("refuses a disabled user with the same generic message", async () => {
    const { user } = await createUser({
      db,
      actorId: null,
      input: { email: "gone@keel.local", name: "G", roles: ["operator"], password: "gone password 123" },
    });
    await db.user.update({ where: { id: user.id }, data: { disabled: true } });
    const res = await signIn("gone@keel.local", "gone password 123", "10.2.0.1");
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toBe(SIGN_IN_FAILED);
  });

  it("an admin revoking a user's sessions refuses that user's next request", async () => {
    const admin = cookieOf(await signIn("admin@keel.local", adminPassword));
    const created = await mutate(
      "users.create",
      { email: "op@keel.local", name: "Op", roles: ["operator"], password: "operator password 1" },
      { cookie: admin },
    );
    expect(created.status).toBe(200);
    const opId = created.body.result.data.json.user.id;
    const op = cookieOf(await signIn("op@keel.local", "operator password 1", "10.3.0.1"));
    expect((await query("me.whoami", undefined, { cookie: op })).status).toBe(200);
    // The operator cannot use the admin API.
    expect((await query("users.list", undefined, { cookie: op })).status).toBe(403);
    const revoked = await mutate("users.revokeSessions", { userId: opId }, { cookie: admin });
    expect(revoked.body.result.data.json.revoked).toBe(1);
    expect((await query("me.whoami", undefined, { cookie: op })).status).toBe(401);
    expect(await auditActions()).toEqual(expect.arrayContaining(["user.create", "session.revoke"]));
  });

  it("signs out", async () => {
    const cookie = cookieOf(await signIn("admin@keel.local", adminPassword));
    const out = await authHandler(
      new Request(`${ORIGIN}/api/auth/sign-out`, {
        method: "POST",
        headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
        body: "{}",
      }),
    );
    expect(out.status).toBe(200);
    expect((await query("me.whoami", undefined, { cookie })).status).toBe(401);
  });
});

describe("API tokens", () => {
  it("works as a bearer token until revoked, records last use, and is stored only as a hash", async () => {
    const cookie = cookieOf(await signIn("admin@keel.local", adminPassword));
    const created = await mutate("tokens.create", { name: "ci" }, { cookie });
    const { token, apiToken } = created.body.result.data.json;
    expect(token).toMatch(/^keel_[A-Za-z0-9_-]{43}$/);
    const stored = await db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
    expect(JSON.stringify(stored)).not.toContain(token);
    const me = await query("me.whoami", undefined, { token, origin: null });
    expect(me.body.result.data.json).toMatchObject({ email: "admin@keel.local", via: "token" });
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } })).lastUsedAt).not.toBeNull();
    // A token-authenticated mutation needs no Origin (the CLI has none).
    expect(
      (
        await mutate(
          "users.create",
          { email: "cli@keel.local", name: "Cli", roles: [] },
          { token, origin: null },
        )
      ).status,
    ).toBe(200);
    expect((await mutate("tokens.revoke", { tokenId: apiToken.id }, { cookie })).status).toBe(200);
    const after = await query("me.whoami", undefined, { token, origin: null });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toMatch(/not valid/);
    expect(await auditActions()).toEqual(expect.arrayContaining(["token.create", "token.revoke"]));
  });
});

describe("admin changes take effect at once", () => {
  it("disabling a user ends their session and refuses their API token; the last admin cannot be demoted", async () => {
    const admin = cookieOf(await signIn("admin@keel.local", adminPassword));
    const created = await mutate(
      "users.create",
      { email: "ops2@keel.local", name: "Ops", roles: ["operator"] },
      { cookie: admin },
    );
    const { user, password } = created.body.result.data.json;
    expect(password).toMatch(/^\S{20,}$/); // generated, shown once
    const session = cookieOf(await signIn("ops2@keel.local", password, "10.4.0.1"));
    const token = (await mutate("tokens.create", { name: "t" }, { cookie: session })).body.result.data.json
      .token;
    expect((await query("me.whoami", undefined, { token, origin: null })).status).toBe(200);
    expect((await mutate("users.disable", { userId: user.id }, { cookie: admin })).status).toBe(200);
    expect((await query("me.whoami", undefined, { cookie: session })).status).toBe(401);
    expect((await query("me.whoami", undefined, { token, origin: null })).status).toBe(401);

    const me = (await query("me.whoami", undefined, { cookie: admin })).body.result.data.json;
    const demote = await mutate("users.setRoles", { userId: me.id, roles: ["operator"] }, { cookie: admin });
    expect(demote.status).toBe(412);
    expect(demote.body.error.json.message).toMatch(/no enabled admin/);
    expect(demote.body.error.json.data.appCode).toBe("PRECONDITION_FAILED");
    expect(await auditActions()).toEqual(expect.arrayContaining(["user.disable"]));
  });
});

describe("request guards", () => {
  let cookie: string;
  beforeAll(async () => {
    cookie = cookieOf(await signIn("admin@keel.local", adminPassword));
  });
  const body = { email: "x@keel.local", name: "X", roles: ["admin"] };

  it("refuses cross-origin form posts (text/plain, urlencoded) and foreign or missing Origin", async () => {
    const before = await db.user.count();
    expect((await mutate("users.create", body, { cookie, contentType: "text/plain" })).status).toBe(415);
    expect(
      (await mutate("users.create", body, { cookie, contentType: "application/x-www-form-urlencoded" }))
        .status,
    ).toBe(415);
    expect((await mutate("users.create", body, { cookie, origin: "http://evil.example" })).status).toBe(403);
    expect((await mutate("users.create", body, { cookie, origin: null })).status).toBe(403);
    expect(await db.user.count()).toBe(before);
  });

  it("refuses a mutation sent as GET", async () => {
    const res = await query("users.create", body, { cookie });
    expect(res.status).toBe(405);
    expect(await db.user.count({ where: { email: "x@keel.local" } })).toBe(0);
  });

  it("returns the zod issues of malformed input, and refuses extra fields", async () => {
    const res = await mutate(
      "users.create",
      { email: "not-an-email", name: "", roles: ["root"] },
      { cookie },
    );
    expect(res.status).toBe(400);
    const paths = res.body.error.json.data.zodIssues.map((i: { path: string[] }) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["email", "name", "roles.0"]));
    const extra = await mutate(
      "users.setRoles",
      { userId: "00000000-0000-4000-8000-000000000000", roles: [], approvedBy: "me" },
      { cookie },
    );
    expect(extra.status).toBe(400);
  });

  it("refuses a batch of more than 50 calls before running any", async () => {
    const paths = Array.from({ length: 1000 }, () => "me.whoami").join(",");
    const input = encodeURIComponent(
      JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, {}]))),
    );
    const res = await trpcHandler(
      new Request(`${ORIGIN}/api/trpc/${paths}?batch=1&input=${input}`, { headers: { cookie } }),
    );
    expect(res.status).toBe(413);
  });

  it("rate-limits calls per client address", async () => {
    const limited = createTRPCHandler({
      db,
      auth,
      trustedOrigins: [ORIGIN],
      callLimit: { max: 3, windowMs: 60_000 },
    });
    const call = () =>
      limited(
        new Request(`${ORIGIN}/api/trpc/me.whoami`, { headers: { cookie, "x-keel-client-ip": "10.7.7.7" } }),
      );
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const res = await call();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBeTruthy();
  });

  it("serves only the auth endpoints the console uses (no self sign-up)", async () => {
    const res = await authHandler(
      new Request(`${ORIGIN}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ email: "self@keel.local", password: "self password 123", name: "S" }),
      }),
    );
    expect(res.status).toBe(404);
    expect(await db.user.count({ where: { email: "self@keel.local" } })).toBe(0);
  });
});
