// Input and sign-in hygiene (issue 13 item 8) through the real /api/auth and /api/trpc handlers
// on a real PostgreSQL: invalid text is a 400 with the field, never a 500; audit filters take "%"
// and "_" literally; a token cannot mint a token; weak passwords are refused with the reason at
// creation and at a password change; password changes and sign-outs are audited and rate
// limited; an admin's unlock lets a slowed account's owner in at once.
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { appendAudit } from "@/server/services/audit/append-audit";
import { createUser } from "@/server/services/users/create-user";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createAuth } from "./auth";
import { createAuthHandler } from "./auth-handler";
import { DEFAULT_THROTTLE, installSignInThrottle, SignInThrottle } from "./sign-in-throttle";

const ORIGIN = "http://127.0.0.1:39124";
let t: TestDatabase;
let db: PrismaClient;
let authHandler: (r: Request) => Promise<Response>;
let trpcHandler: (r: Request) => Promise<Response>;
let throttle: SignInThrottle;
let admin: string;
const adminPassword = "correct horse battery staple";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire JSON, asserted field by field
type Wire = any;
async function authPost(path: string, body: string | Buffer, o: { cookie?: string; ip?: string } = {}) {
  const res = await authHandler(
    new Request(`${ORIGIN}/api/auth${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
        "x-keel-client-ip": o.ip ?? "10.0.0.1",
        ...(o.cookie ? { cookie: o.cookie } : {}),
      },
      body: body as BodyInit,
    }),
  );
  return {
    status: res.status,
    res,
    body: (await res
      .clone()
      .json()
      .catch(() => null)) as Wire,
  };
}
async function signIn(email: string, password: string, ip = "10.0.0.1") {
  const r = await authPost("/sign-in/email", JSON.stringify({ email, password }), { ip });
  return {
    ...r,
    cookie: r.res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; "),
  };
}
type Call = { cookie?: string; token?: string };
function headers(c: Call): Record<string, string> {
  return {
    "x-keel-client-ip": "10.0.0.2",
    ...(c.cookie ? { cookie: c.cookie, origin: ORIGIN } : {}),
    ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
  };
}
async function mutate(path: string, input: unknown, c: Call, raw?: string | Buffer) {
  const res = await trpcHandler(
    new Request(`${ORIGIN}/api/trpc/${path}`, {
      method: "POST",
      headers: { ...headers(c), "content-type": "application/json" },
      body: (raw ?? JSON.stringify({ json: input })) as BodyInit,
    }),
  );
  return { status: res.status, body: (await res.json()) as Wire };
}
async function query(path: string, input: unknown, c: Call) {
  const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const res = await trpcHandler(new Request(`${ORIGIN}/api/trpc/${path}${q}`, { headers: headers(c) }));
  return { status: res.status, body: (await res.json()) as Wire };
}
async function actions(): Promise<string[]> {
  return (await db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { action: true } })).map(
    (r) => r.action,
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  const auth = createAuth({ db, secret: randomBytes(32).toString("hex"), baseURL: ORIGIN });
  // Backoff starts at a minute so that "still waiting" needs no timing; few password changes.
  // (Installed as the process's throttle, which users.unlock clears.)
  throttle = new SignInThrottle({
    ...DEFAULT_THROTTLE,
    account: { ...DEFAULT_THROTTLE.account, baseMs: 60_000 },
  });
  installSignInThrottle(throttle);
  authHandler = createAuthHandler({
    db,
    auth,
    trustedOrigins: [ORIGIN],
    throttle,
    limits: { changePassword: { max: 3, windowMs: 60_000 }, signOut: { max: 2, windowMs: 60_000 } },
  });
  trpcHandler = createTRPCHandler({ db, auth, trustedOrigins: [ORIGIN] });
  await createUser({
    db,
    actorId: null,
    input: { email: "admin@keel.local", name: "Admin", roles: ["admin"], password: adminPassword },
  });
  admin = (await signIn("admin@keel.local", adminPassword)).cookie;
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

describe("invalid text is a 400 with the field, never a 500", () => {
  it("a NUL or a lone surrogate in any tRPC input, mutation or query, nothing stored", async () => {
    const before = await db.user.count();
    for (const name of ["Mal\u0000lory", "Mal\ud800lory", "Mal\udc00lory"]) {
      const r = await mutate("users.create", { email: "mal@keel.local", name, roles: [] }, { cookie: admin });
      expect(r.status).toBe(400);
      expect(r.body.error.json.message).toMatch(/field name holds invalid text/);
    }
    const q = await query("audit.list", { target: "x\u0000y" }, { cookie: admin });
    expect(q.status).toBe(400);
    expect(q.body.error.json.message).toMatch(/field target/);
    // In an object key, too.
    const key = await mutate(
      "users.create",
      { email: "mal@keel.local", name: "M", roles: [], "a\u0000": 1 },
      { cookie: admin },
    );
    expect(key.status).toBe(400);
    expect(await db.user.count()).toBe(before);
  });

  it("a body that is not UTF-8, to tRPC and to sign-in", async () => {
    const bad = Buffer.concat([
      Buffer.from('{"json":{"email":"m@keel.local","name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","roles":[]}}'),
    ]);
    const r = await mutate("users.create", null, { cookie: admin }, bad);
    expect([r.status, r.body.error.code]).toEqual([400, "INVALID_TEXT"]);
    const s = await authPost(
      "/sign-in/email",
      Buffer.concat([
        Buffer.from('{"email":"admin@keel.local","password":"'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]),
    );
    expect([s.status, s.body.error.code]).toEqual([400, "INVALID_TEXT"]);
  });

  it("a NUL in a sign-in body: 400 with the field, audited as a failed sign-in", async () => {
    const r = await authPost(
      "/sign-in/email",
      JSON.stringify({ email: "admin@keel.local", password: "correct horse\u0000battery" }),
      { ip: "10.0.5.5" },
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/field password holds invalid text/);
    const failed = await db.auditEvent.findMany({ where: { action: "auth.sign_in_failed" } });
    expect(failed.some((f) => (f.detail as { reason?: string; ip?: string }).reason === "invalid_text")).toBe(
      true,
    );
  });
});

describe("audit filters take % and _ literally", () => {
  it("target, actor and action prefix", async () => {
    for (const target of ["host:web_1", "host:webx1", "host:100%", "host:1000"])
      await appendAudit(db, { actorId: null, action: "like.test", target });
    const targets = async (target: string) =>
      (
        (await query("audit.list", { target, action: "like." }, { cookie: admin })).body.result.data.json
          .items as { target: string }[]
      )
        .map((i) => i.target)
        .sort();
    expect(await targets("web_1")).toEqual(["host:web_1"]);
    expect(await targets("100%")).toEqual(["host:100%"]);
    expect(await targets("%")).toEqual(["host:100%"]);
    expect(await targets("_")).toEqual(["host:web_1"]);
    expect(await targets("web")).toEqual(["host:web_1", "host:webx1"]);
    const prefix = await query("audit.list", { action: "lik_." }, { cookie: admin });
    expect(prefix.body.result.data.json.items).toEqual([]);
    const actor = await query("audit.list", { actor: "%", action: "auth." }, { cookie: admin });
    expect(actor.body.result.data.json.items).toEqual([]);
  });
});

describe("tokens never outlive or widen the credential that made them", () => {
  it("a token cannot mint a token; a session can", async () => {
    const first = await mutate("tokens.create", { name: "one day", expiresInDays: 1 }, { cookie: admin });
    expect(first.status).toBe(200);
    const token = first.body.result.data.json.token as string;
    const minted = await mutate("tokens.create", { name: "forever" }, { token });
    expect(minted.status).toBe(403);
    expect(minted.body.error.json.message).toMatch(/only be created from a signed-in console session/);
    expect(await db.apiToken.count({ where: { name: "forever" } })).toBe(0);
  });
});

describe("passwords", () => {
  it("a weak password is refused at user creation, saying why", async () => {
    const r = await mutate(
      "users.create",
      { email: "weak@keel.local", name: "W", roles: [], password: "aaaaaaaaaaaa" },
      { cookie: admin },
    );
    expect(r.status).toBe(400);
    expect(r.body.error.json.message).toMatch(/too weak.*Repeated characters/);
    const common = await mutate(
      "users.create",
      { email: "weak@keel.local", name: "W", roles: [], password: "Password1234!" },
      { cookie: admin },
    );
    expect(common.body.error.json.message).toMatch(/commonly used password/);
    // Also when the creation needs approvers (an admin): refused at the request, not stored as a change.
    const asAdmin = await mutate(
      "users.create",
      { email: "weak@keel.local", name: "W", roles: ["admin"], password: "aaaaaaaaaaaa" },
      { cookie: admin },
    );
    expect([asAdmin.status, asAdmin.body.error?.json.message]).toEqual([
      400,
      expect.stringMatching(/too weak/),
    ]);
    // The user's own e-mail is part of the dictionary.
    const own = await mutate(
      "users.create",
      { email: "weakling@keel.local", name: "W", roles: [], password: "weakling@keel.local" },
      { cookie: admin },
    );
    expect(own.status).toBe(400);
    expect(await db.user.count({ where: { email: { startsWith: "weak" } } })).toBe(0);
  });

  it("a password change: strength checked, audited (done or failed), rate limited per user", async () => {
    await createUser({
      db,
      actorId: null,
      input: { email: "changer@keel.local", name: "C", roles: [], password: "first password of changer" },
    });
    const { cookie } = await signIn("changer@keel.local", "first password of changer", "10.0.6.1");
    const change = (currentPassword: string, newPassword: string) =>
      authPost("/change-password", JSON.stringify({ currentPassword, newPassword }), {
        cookie,
        ip: "10.0.6.1",
      });
    const weak = await change("first password of changer", "aaaaaaaaaaaa");
    expect([weak.status, weak.body.error.code]).toEqual([400, "PASSWORD_TOO_WEAK"]);
    expect(weak.body.error.message).toMatch(/Repeated characters/);
    expect((await change("not my password at all", "second password of changer")).status).toBe(400);
    expect((await change("first password of changer", "second password of changer")).status).toBe(200);
    expect((await signIn("changer@keel.local", "second password of changer", "10.0.6.2")).status).toBe(200);
    const limited = await change("second password of changer", "third password of changer");
    expect(limited.status).toBe(429);
    expect(Number(limited.res.headers.get("retry-after"))).toBeGreaterThan(0);
    const events = await db.auditEvent.findMany({
      where: { target: "user:changer@keel.local", action: { startsWith: "auth.password_change" } },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => [e.action, (e.detail as { reason?: string }).reason ?? null])).toEqual([
      ["auth.password_change_failed", "weak"],
      ["auth.password_change_failed", "wrong_current_password"],
      ["auth.password_change", null],
      ["auth.password_change_failed", "rate_limited"],
    ]);
  });

  it("sign-outs are audited and rate limited per address", async () => {
    await createUser({
      db,
      actorId: null,
      input: { email: "leaver@keel.local", name: "L", roles: [], password: "password of the leaver" },
    });
    const signOut = async (ip: string) => {
      const { cookie } = await signIn("leaver@keel.local", "password of the leaver", ip);
      return authPost("/sign-out", "{}", { cookie, ip });
    };
    expect((await signOut("10.0.7.1")).status).toBe(200);
    expect((await signOut("10.0.7.1")).status).toBe(200);
    expect((await signOut("10.0.7.1")).status).toBe(429);
    expect(
      (await db.auditEvent.findMany({ where: { action: "auth.sign_out", target: "user:leaver@keel.local" } }))
        .length,
    ).toBe(2);
  });
});

describe("an admin's unlock", () => {
  it("lets a slowed account in at once from the address that was failing, audited", async () => {
    const { user } = await createUser({
      db,
      actorId: null,
      input: { email: "forgetful@keel.local", name: "F", roles: [], password: "password of the forgetful" },
    });
    for (let i = 0; i < 6; i++)
      expect((await signIn("forgetful@keel.local", `wrong guess ${i}xx`, "10.0.8.1")).status).toBe(401);
    expect((await signIn("forgetful@keel.local", "password of the forgetful", "10.0.8.1")).status).toBe(429);
    const op = await createUser({
      db,
      actorId: null,
      input: {
        email: "op-unlock@keel.local",
        name: "O",
        roles: ["operator"],
        password: "password of the operator",
      },
    });
    const opCookie = (await signIn(op.user.email, "password of the operator", "10.0.8.2")).cookie;
    expect((await mutate("users.unlock", { userId: user.id }, { cookie: opCookie })).status).toBe(403);
    const r = await mutate("users.unlock", { userId: user.id }, { cookie: admin });
    expect(r.body.result.data.json).toEqual({ email: "forgetful@keel.local", hadFailures: true });
    expect((await signIn("forgetful@keel.local", "password of the forgetful", "10.0.8.1")).status).toBe(200);
    expect(await actions()).toContain("user.unlock");
  });
});
