// Sign-in through a real OpenID provider (oidc-provider on a loopback port, server/test/oidc-provider.ts)
// with the console's real auth and tRPC handlers on a real PostgreSQL: accounts made on first
// sign-in with the mapped roles, group changes, a removed user locked out with their tokens, every
// refused answer (wrong audience, expired, replayed code, bad state, bad nonce) with its message,
// the two-person rule for directory-granted approvers, and the break-glass admin when the provider
// is down. The provider's browser is a small cookie jar following redirects.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { startTestProvider, type TestProvider } from "@/server/test/oidc-provider";
import { createDb } from "@/server/db";
import { createAuth } from "@/server/auth/auth";
import { createAuthHandler } from "@/server/auth/auth-handler";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createUser } from "@/server/services/users/create-user";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { countIndependentApprovals } from "@/server/services/policy/count-independent";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { oidcMessage } from "./errors";
import { recheckDirectoryUsers } from "./recheck";
import { createOidcRoutes } from "./routes";
import { parseRoleMap } from "./role-map";
import type { OidcSettings } from "./settings";

const ORIGIN = "http://127.0.0.1:39125";
const ADMIN = "admin@keel.local";
const ADMIN_PASSWORD = "correct horse battery staple";
let t: TestDatabase;
let db: PrismaClient;
let idp: TestProvider;
let settings: OidcSettings;
let authHandler: (r: Request) => Promise<Response>;
let trpcHandler: (r: Request) => Promise<Response>;
let dataDir: string;
let adminId: string;
let founderId: string;
let box: ReturnType<typeof createSecretBox>;
const recheck = () =>
  recheckDirectoryUsers({ db, box: () => box, settings: async () => settings }, { all: true });

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  dataDir = mkdtempSync(join(tmpdir(), "keel-oidc-"));
  const secret = randomBytes(32).toString("hex");
  const auth = createAuth({ db, secret, baseURL: ORIGIN });
  box = createSecretBox({ secret, dataDir });
  idp = await startTestProvider({ redirectUris: [`${ORIGIN}/api/auth/oidc/callback`] });
  adminId = (
    await createUser({
      db,
      actorId: null,
      input: { email: ADMIN, name: "Admin", roles: ["admin"], password: ADMIN_PASSWORD },
    })
  ).user.id;
  founderId = (
    await createUser({
      db,
      actorId: null,
      input: {
        email: "fay@keel.local",
        name: "Fay",
        roles: ["approver"],
        password: "fay's own long password",
      },
    })
  ).user.id;
  settings = {
    source: "settings",
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    groupClaim: "groups",
    roleMap: parseRoleMap("keel-ops:operator+approver,keel-audit:auditor,keel-admins:admin"),
    localSignIn: true,
    breakGlassEmail: ADMIN,
    // Set by the admin and approved by a founder, as the default policy asks for a map granting approver.
    grantedById: adminId,
    approvedByIds: [founderId],
  };
  const oidc = createOidcRoutes({
    db,
    auth,
    secret,
    baseURL: ORIGIN,
    box: () => box,
    settings: async () => settings,
  });
  authHandler = createAuthHandler({ db, auth, trustedOrigins: [ORIGIN], oidc });
  trpcHandler = createTRPCHandler({ db, auth, trustedOrigins: [ORIGIN] });
  idp.accounts.set("alice", { email: "alice@example.org", name: "Alice", groups: ["keel-ops"] });
  idp.accounts.set("bob", { email: "bob@example.org", name: "Bob", groups: ["keel-audit"] });
});

afterAll(async () => {
  await idp?.close();
  await db?.$disconnect();
  await t?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const setCookies = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]!);

/** Starts a sign-in at the console and logs in at the provider as `login`: the callback URL and the state cookie. */
async function atProvider(login: string): Promise<{ callback: string; stateCookie: string }> {
  const start = await authHandler(
    new Request(`${ORIGIN}/api/auth/oidc/start?next=/hosts`, { headers: { "x-keel-client-ip": "10.0.0.5" } }),
  );
  expect(start.status).toBe(303);
  const stateCookie = setCookies(start).find((c) => c.startsWith("keel_oidc_state="))!;
  const jar = new Map<string, string>();
  let url = start.headers.get("location")!;
  expect(url.startsWith(idp.issuer)).toBe(true);
  for (let hops = 0; hops < 10; hops++) {
    if (url.startsWith(ORIGIN)) return { callback: url, stateCookie };
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    let res = await fetch(url, { redirect: "manual", headers: { cookie } });
    if (res.status === 200 && url.includes("/interaction/")) {
      for (const c of setCookies(res)) jar.set(c.split("=")[0]!, c.slice(c.indexOf("=") + 1));
      res = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ login }),
      });
    }
    for (const c of setCookies(res)) jar.set(c.split("=")[0]!, c.slice(c.indexOf("=") + 1));
    const next = res.headers.get("location");
    if (!next)
      throw new Error(
        `the provider stopped at ${url} with ${res.status}: ${(await res.text()).slice(0, 200)}`,
      );
    url = new URL(next, url).href;
  }
  throw new Error("too many redirects at the provider");
}

async function callback(callbackUrl: string, stateCookie: string | null) {
  const res = await authHandler(
    new Request(callbackUrl, {
      headers: { "x-keel-client-ip": "10.0.0.5", ...(stateCookie ? { cookie: stateCookie } : {}) },
    }),
  );
  expect(res.status).toBe(303);
  const location = res.headers.get("location")!;
  const error = new URL(location, ORIGIN).searchParams.get("oidc_error");
  const session = setCookies(res).find((c) => c.includes("session_token="));
  return { location, error, cookie: session ?? null };
}

async function signInAs(login: string) {
  const p = await atProvider(login);
  return callback(p.callback, p.stateCookie);
}

async function whoami(auth: { cookie?: string; token?: string }) {
  const headers: Record<string, string> = { "x-keel-client-ip": "10.0.0.6" };
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const res = await trpcHandler(new Request(`${ORIGIN}/api/trpc/me.whoami`, { headers }));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tRPC wire JSON
  return { status: res.status, body: (await res.json()) as any };
}

const userOf = (email: string) =>
  db.user.findUniqueOrThrow({ where: { email }, include: { oidcLink: true, roleGrants: true } });

describe("sign-in through the identity provider", () => {
  it("first sign-in makes the account, linked to issuer + subject, with the mapped roles and a working session", async () => {
    const r = await signInAs("alice");
    expect(r.error).toBeNull();
    expect(r.location).toBe("/hosts");
    const me = await whoami({ cookie: r.cookie! });
    expect(me.status).toBe(200);
    expect(me.body.result.data.json).toMatchObject({
      email: "alice@example.org",
      roles: ["operator", "approver"],
    });
    const alice = await userOf("alice@example.org");
    expect(alice.oidcLink).toMatchObject({
      issuer: idp.issuer,
      subject: "alice",
      state: "active",
      groups: ["keel-ops"],
    });
    expect(alice.oidcLink!.refreshTokenSealed).not.toBeNull();
    expect(
      alice.roleGrants
        .filter((g) => !g.revokedAt)
        .map((g) => [g.role, g.via, g.grantedById, g.approvedByIds]),
    ).toEqual(
      expect.arrayContaining([
        ["operator", "directory", adminId, [founderId]],
        ["approver", "directory", adminId, [founderId]],
      ]),
    );
    const audit = await db.auditEvent.findMany({
      where: { target: "user:alice@example.org" },
      orderBy: { id: "asc" },
    });
    expect(audit.map((a) => a.action)).toEqual(["user.create", "user.directory_roles", "auth.sign_in"]);
  });

  it("a group change takes effect at the next sign-in and is audited", async () => {
    idp.accounts.set("alice", { email: "alice@example.org", name: "Alice", groups: ["keel-audit"] });
    const r = await signInAs("alice");
    expect(r.error).toBeNull();
    expect((await whoami({ cookie: r.cookie! })).body.result.data.json.roles).toEqual(["auditor"]);
    const change = await db.auditEvent.findFirst({
      where: { action: "user.directory_roles", target: "user:alice@example.org" },
      orderBy: { id: "desc" },
    });
    expect(change!.detail).toMatchObject({
      added: ["auditor"],
      removed: ["operator", "approver"],
      why: "sign_in",
    });
    idp.accounts.set("alice", { email: "alice@example.org", name: "Alice", groups: ["keel-ops"] });
    expect((await signInAs("alice")).error).toBeNull();
  });

  it("never joins a local account by e-mail, and refuses someone whose groups grant nothing", async () => {
    await createUser({
      db,
      actorId: adminId,
      input: {
        email: "carol@example.org",
        name: "Carol (local)",
        roles: ["operator"],
        password: "carol's long password 9",
      },
    });
    idp.accounts.set("carol", { email: "carol@example.org", name: "Carol", groups: ["keel-admins"] });
    const taken = await signInAs("carol");
    expect(taken.error).toBe("email_taken");
    expect(taken.cookie).toBeNull();
    expect((await userOf("carol@example.org")).oidcLink).toBeNull();
    idp.accounts.set("dan", { email: "dan@example.org", name: "Dan", groups: ["marketing"] });
    const none = await signInAs("dan");
    expect(none.error).toBe("no_roles");
    expect(oidcMessage("no_roles")).toMatch(/grant no role in Keel/);
    expect(await db.user.findUnique({ where: { email: "dan@example.org" } })).toBeNull();
  });

  it("a user removed at the provider is locked out: sessions and API tokens stop at the re-check", async () => {
    const r = await signInAs("bob");
    expect(r.error).toBeNull();
    const bob = await userOf("bob@example.org");
    const { token } = await createApiToken({ db, userId: bob.id, name: "ci", via: "session" });
    expect((await whoami({ token })).status).toBe(200);
    // Still known: the re-check confirms and changes nothing.
    expect((await recheck()).find((x) => x.userId === bob.id)?.outcome).toBe("confirmed");
    expect((await whoami({ cookie: r.cookie! })).status).toBe(200);
    idp.accounts.delete("bob");
    expect((await recheck()).find((x) => x.userId === bob.id)?.outcome).toBe("gone");
    expect((await whoami({ cookie: r.cookie! })).status).toBe(401);
    expect((await whoami({ token })).status).toBe(401);
    const after = await userOf("bob@example.org");
    expect(after.roles).toEqual([]);
    expect(after.oidcLink!.state).toBe("gone");
    expect(
      await db.auditEvent.count({ where: { action: "user.directory_gone", target: "user:bob@example.org" } }),
    ).toBe(1);
    // And the provider no longer lets him sign in at all.
    await expect(atProvider("bob")).rejects.toThrow(/No such user: bob/);
  });

  it("a user whose groups no longer grant any role stops at the re-check; one the provider has not confirmed for an hour stops too", async () => {
    idp.accounts.set("erin", { email: "erin@example.org", name: "Erin", groups: ["keel-audit"] });
    const r = await signInAs("erin");
    const erin = await userOf("erin@example.org");
    const { token } = await createApiToken({ db, userId: erin.id, name: "t", via: "session" });
    idp.accounts.set("erin", { email: "erin@example.org", name: "Erin", groups: [] });
    expect((await recheck()).find((x) => x.userId === erin.id)?.outcome).toBe("no_roles");
    expect((await whoami({ cookie: r.cookie! })).status).toBe(401);
    expect((await whoami({ token })).status).toBe(401);
    // Alice was confirmed just now; her link last confirmed over an hour ago (provider unreachable since) stops her.
    const alice = await signInAs("alice");
    expect((await whoami({ cookie: alice.cookie! })).status).toBe(200);
    const aliceUser = await userOf("alice@example.org");
    await db.oidcLink.update({
      where: { userId: aliceUser.id },
      data: { confirmedAt: new Date(Date.now() - 61 * 60_000) },
    });
    expect((await whoami({ cookie: alice.cookie! })).status).toBe(401);
    await db.oidcLink.update({ where: { userId: aliceUser.id }, data: { confirmedAt: new Date() } });
  });
});

describe("refused answers, each with its own message", () => {
  const refusedWith = async (reason: string, r: { error: string | null; cookie: string | null }) => {
    expect(r.error).toBe(reason);
    expect(r.cookie).toBeNull();
    const last = await db.auditEvent.findFirst({
      where: { action: "auth.sign_in_failed" },
      orderBy: { id: "desc" },
    });
    expect(last!.detail).toMatchObject({ reason, via: "oidc" });
  };

  it("an ID token for another audience", async () => {
    idp.tamper((c) => void (c.aud = "some-other-app"));
    await refusedWith("wrong_audience", await signInAs("alice"));
    expect(oidcMessage("wrong_audience")).toMatch(/made for another application/);
  });

  it("an expired ID token", async () => {
    const now = Math.floor(Date.now() / 1000);
    idp.tamper((c) => Object.assign(c, { iat: now - 7200, exp: now - 3600 }));
    await refusedWith("expired_token", await signInAs("alice"));
    expect(oidcMessage("expired_token")).toMatch(/has expired/);
  });

  it("an ID token with another sign-in's nonce", async () => {
    idp.tamper((c) => void (c.nonce = "nonce-of-another-sign-in"));
    await refusedWith("bad_nonce", await signInAs("alice"));
    expect(oidcMessage("bad_nonce")).toMatch(/nonce does not match/);
  });

  it("a replayed code: refused by the console, and by the provider were the console's guard gone", async () => {
    const p = await atProvider("alice");
    const state = new URL(p.callback).searchParams.get("state")!;
    const saved = await db.oidcLogin.findUniqueOrThrow({ where: { state } });
    expect((await callback(p.callback, p.stateCookie)).error).toBeNull();
    await refusedWith("replayed_or_expired", await callback(p.callback, p.stateCookie));
    expect(oidcMessage("replayed_or_expired")).toMatch(/already used/);
    // Put the sign-in back as if it had not been answered: the provider itself refuses the used code.
    await db.oidcLogin.create({ data: { ...saved, expiresAt: new Date(Date.now() + 60_000) } });
    await refusedWith("code_refused", await callback(p.callback, p.stateCookie));
  });

  it("a bad state: an answer for another browser's sign-in, or with no state cookie", async () => {
    const p = await atProvider("alice");
    await refusedWith("bad_state", await callback(p.callback, "keel_oidc_state=someone-elses-state"));
    await refusedWith("bad_state", await callback(p.callback, null));
    expect(oidcMessage("bad_state")).toMatch(/state does not match/);
  });
});

describe("two people, and the break-glass admin", () => {
  it("a directory approver counts only when someone other than the requester vouched for the role map", async () => {
    const alice = await userOf("alice@example.org");
    const requestedAt = new Date(Date.now() + 1000);
    // The map was set by the admin and approved by a founder: Alice is independent of the admin.
    const ok = await countIndependentApprovals(db, { requesterId: adminId, requestedAt, role: "approver" }, [
      { approverId: alice.id },
    ]);
    expect(ok.count).toBe(1);
    // Had the admin set the map alone, Alice's approver role would rest solely on the admin.
    settings = { ...settings, approvedByIds: [] };
    expect((await signInAs("alice")).error).toBeNull();
    const alone = await countIndependentApprovals(
      db,
      { requesterId: adminId, requestedAt: new Date(Date.now() + 1000), role: "approver" },
      [{ approverId: alice.id }],
    );
    expect(alone.count).toBe(0);
    expect(alone.checks[0]!.why).toMatch(/rests solely on the requester/);
    settings = { ...settings, approvedByIds: [founderId] };
  });

  it("local sign-in off: only the break-glass admin signs in with a password, and does so while the provider is down", async () => {
    settings = { ...settings, localSignIn: false, issuer: "http://127.0.0.1:9" };
    const password = (email: string, pw: string) =>
      authHandler(
        new Request(`${ORIGIN}/api/auth/sign-in/email`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: ORIGIN, "x-keel-client-ip": "10.0.0.7" },
          body: JSON.stringify({ email, password: pw }),
        }),
      );
    const fay = await password("fay@keel.local", "fay's own long password");
    expect(fay.status).toBe(403);
    expect((await fay.json()).error.message).toMatch(/Sign-in with a password is turned off/);
    const start = await authHandler(
      new Request(`${ORIGIN}/api/auth/oidc/start`, { headers: { "x-keel-client-ip": "10.0.0.7" } }),
    );
    expect(new URL(start.headers.get("location")!, ORIGIN).searchParams.get("oidc_error")).toBe(
      "provider_unreachable",
    );
    const admin = await password(ADMIN, ADMIN_PASSWORD);
    expect(admin.status).toBe(200);
    expect((await whoami({ cookie: setCookies(admin).join("; ") })).body.result.data.json.roles).toEqual([
      "admin",
    ]);
  });
});
