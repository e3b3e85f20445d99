// Authorization by construction (RELIABILITY.md cases 17 and 18). Walks every procedure of the
// real appRouter: each must declare who may call it, no mutation may be granted to auditors,
// and calling each procedure as each role is allowed exactly when the declaration says so.
// The table below pins every procedure's roles (a role change is a deliberate edit here): add
// your procedures to it.
import { describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { TRPCError } from "@trpc/server";
import { appRouter, createCaller } from "./root";
import { createContextInner, ROLES, type Access, type Meta, type Role } from "./init";

type Procedures = Record<string, { _def: { meta?: Meta; type: "query" | "mutation" | "subscription" } }>;
const procedures = appRouter._def.procedures as unknown as Procedures;

/** Who may call what. "signed-in" = any signed-in user; a role list = those roles only. */
const EXPECTED: Record<string, Access> = {
  "me.whoami": "signed-in",
  "users.list": ["admin"],
  "users.create": ["admin"],
  "users.setRoles": ["admin"],
  "users.disable": ["admin"],
  "users.enable": ["admin"],
  "users.revokeSessions": ["admin"],
  "users.unlock": ["admin"],
  "settings.sshKey": "signed-in",
  "tokens.list": "signed-in",
  "tokens.create": "signed-in",
  "tokens.revoke": "signed-in",
  "audit.list": ["auditor", "admin"],
  "audit.verify": ["auditor", "admin"],
  // Rollouts and the policy: everyone reads; operators/admins change; approvers answer; only
  // admins propose policy edits (which then need an approver).
  "rollouts.list": ["admin", "operator", "approver", "auditor"],
  "rollouts.get": ["admin", "operator", "approver", "auditor"],
  "rollouts.pendingApprovals": ["approver", "admin", "auditor"],
  "rollouts.preview": ["admin", "operator"],
  "rollouts.create": ["admin", "operator"],
  "rollouts.replan": ["admin", "operator"],
  "rollouts.start": ["admin", "operator"],
  "rollouts.pause": ["admin", "operator"],
  "rollouts.resume": ["admin", "operator"],
  "rollouts.cancel": ["admin", "operator"],
  "rollouts.schedule": ["admin", "operator"],
  "rollouts.unschedule": ["admin", "operator"],
  "rollouts.approve": ["approver"],
  "rollouts.reject": ["approver"],
  "policy.get": ["admin", "operator", "approver", "auditor"],
  "policy.version": ["admin", "operator", "approver", "auditor"],
  "policy.validate": ["admin", "operator", "approver", "auditor"],
  "policy.test": ["admin", "operator", "approver", "auditor"],
  "policy.propose": ["admin"],
  "policy.approve": ["approver", "admin"],
  "policy.reject": ["approver", "admin"],
  "policy.changes": ["admin", "operator", "approver", "auditor"],
  "policy.approveChange": ["approver", "admin"],
  "policy.rejectChange": ["approver", "admin"],
  "policy.cancelChange": ["admin", "operator"],
  // Releases and signing keys: everyone reads; operators and admins push, build and delete; keys are admins'.
  "releases.buildSupport": ["admin", "operator"],
  "releases.delete": ["admin", "operator"],
  "releases.list": ["admin", "operator", "approver", "auditor"],
  "releases.plan": ["admin", "operator"],
  "releases.show": ["admin", "operator", "approver", "auditor"],
  "keys.create": ["admin"],
  "keys.import": ["admin"],
  "keys.list": ["admin", "operator", "approver", "auditor"],
  "keys.retire": ["admin"],
  // Inventory (apps, groups, hosts): everyone reads; operators and admins refresh, label and target;
  // only admins enroll, import, remove, re-pin and delete groups.
  "apps.distribution": ["admin", "operator", "approver", "auditor"],
  "apps.drift": ["admin", "operator", "approver", "auditor"],
  "apps.list": ["admin", "operator", "approver", "auditor"],
  "apps.runtimes": ["admin", "operator", "approver", "auditor"],
  "apps.setTarget": ["admin", "operator"],
  "apps.targets": ["admin", "operator", "approver", "auditor"],
  "groups.delete": ["admin"],
  "groups.list": ["admin", "operator", "approver", "auditor"],
  "groups.save": ["admin", "operator"],
  "groups.setMembers": ["admin", "operator"],
  "hosts.asOf": ["admin", "operator", "approver", "auditor"],
  "hosts.bootstrapKey": ["admin"],
  "hosts.enroll": ["admin"],
  "hosts.exportCsv": ["admin", "operator", "approver", "auditor"],
  "hosts.fetchHostKey": ["admin"],
  "hosts.get": ["admin", "operator", "approver", "auditor"],
  "hosts.import": ["admin"],
  "hosts.list": ["admin", "operator", "approver", "auditor"],
  "hosts.refresh": ["admin", "operator"],
  "hosts.remove": ["admin"],
  "hosts.repin": ["admin"],
  "hosts.retired": ["admin", "operator", "approver", "auditor"],
  "hosts.setEnvironment": ["admin", "operator"],
  "hosts.setLabels": ["admin", "operator"],
  "hosts.stale": ["admin", "operator", "approver", "auditor"],
  // Notifications and the identity provider: admins change them, auditors read them.
  "notifications.addEmail": ["admin"],
  "notifications.addWebhook": ["admin"],
  "notifications.deliveries": ["admin", "auditor"],
  "notifications.events": ["admin", "auditor"],
  "notifications.list": ["admin", "auditor"],
  "notifications.remove": ["admin"],
  "notifications.setSmtp": ["admin"],
  "notifications.smtp": ["admin", "auditor"],
  "notifications.test": ["admin"],
  "oidc.get": ["admin", "auditor"],
  "oidc.remove": ["admin"],
  "oidc.set": ["admin"],
};

// A database that must never be reached: calls that pass authorization stop at input
// validation or here, which tells "allowed" from "refused" without touching data. Every query
// rejects, as a real client's would (asynchronously): a service that starts two queries at once
// (Promise.all) then leaves no rejection unhandled.
const refusing: unknown = new Proxy(function () {}, {
  get: (_t, key) => (key === "then" ? undefined : refusing),
  apply: () => Promise.reject(new Error("unit test: no database")),
});
const noDb = refusing as PrismaClient;

async function outcome(
  path: string,
  roles: Role[] | null,
): Promise<"allowed" | "unauthorized" | "forbidden"> {
  const user = roles
    ? { id: "00000000-0000-4000-8000-000000000001", email: "t@keel.local", name: "T", roles }
    : null;
  const caller = createCaller(createContextInner({ db: noDb, user }));
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (
    i?: unknown,
  ) => Promise<unknown>;
  try {
    await fn(undefined);
    return "allowed";
  } catch (e) {
    if (e instanceof TRPCError && e.code === "UNAUTHORIZED") return "unauthorized";
    if (e instanceof TRPCError && e.code === "FORBIDDEN") return "forbidden";
    return "allowed"; // reached input validation or the (absent) database
  }
}

function allowedFor(access: Access, roles: Role[] | null, type: string): boolean {
  if (access === "public") return true;
  if (!roles) return false;
  if (access === "signed-in") return true;
  return roles.some((r) => access.includes(r) && !(type === "mutation" && r === "auditor"));
}

const paths = Object.keys(procedures).sort();

describe("every procedure declares who may call it", () => {
  it("has procedures to check", () => {
    expect(paths.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length);
  });
  it.each(paths)("%s declares roles", (path) => {
    const roles = procedures[path]!._def.meta?.roles;
    expect(
      roles,
      `${path} must be built with procedureFor([...]), signedInProcedure or publicProcedure`,
    ).toBeDefined();
    if (Array.isArray(roles)) expect(roles.length).toBeGreaterThan(0);
  });
  it.each(paths.filter((p) => procedures[p]!._def.type === "mutation"))(
    "mutation %s is not granted to auditors",
    (path) => {
      const roles = procedures[path]!._def.meta?.roles;
      if (Array.isArray(roles)) expect(roles).not.toContain("auditor");
    },
  );
  it("the procedures are exactly the expected ones, each with the expected roles", () => {
    expect(paths).toEqual(Object.keys(EXPECTED).sort());
    for (const [path, access] of Object.entries(EXPECTED))
      expect(procedures[path]!._def.meta?.roles, path).toEqual(access);
  });
});

describe("role × procedure matrix", () => {
  const callers: [string, Role[] | null][] = [
    ["anonymous", null],
    ["no roles", []],
    ...ROLES.map((r): [string, Role[]] => [r, [r]]),
    ["operator+approver", ["operator", "approver"]],
  ];
  it.each(paths)("%s", async (path) => {
    const { meta, type } = procedures[path]!._def;
    // The pinned roles, not the procedure's own declaration: a changed role fails here too.
    const access = EXPECTED[path] ?? "public";
    expect(meta?.roles, path).toEqual(access);
    for (const [name, roles] of callers) {
      const got = await outcome(path, roles);
      const want = allowedFor(access, roles, type) ? "allowed" : roles ? "forbidden" : "unauthorized";
      expect(got, `${path} as ${name}`).toBe(want);
    }
  });
});
