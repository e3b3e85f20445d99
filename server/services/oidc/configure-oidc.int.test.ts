// The identity provider's settings through the tRPC procedures, under the default policy and the
// two-person rule, on a real PostgreSQL: a map granting only operator is applied at once; one granting
// approver waits for an approver, who becomes a voucher of the directory grants; the client secret is
// sealed before anything stores it (neither the change request nor the audit log holds it in clear).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedUser } from "@/prisma/seed/fleet";
import { createCaller } from "@/server/trpc/root";
import { createContextInner, type Role } from "@/server/trpc/init";

const dataDir = mkdtempSync(join(tmpdir(), "keel-oidc-config-"));
process.env.KEEL_DATA_DIR = dataDir;
process.env.KEEL_SECRET = "a-test-secret-that-is-long-enough-0123456789";
delete process.env.KEEL_OIDC_ISSUER;

let t: TestDatabase;
let db: PrismaClient;
type Person = { id: string; email: string; roles: Role[] };
let admin: Person;
let approver: Person;
let operator: Person;
const as = (p: Person) =>
  createCaller(createContextInner({ db, user: { id: p.id, email: p.email, name: p.email, roles: p.roles } }));
const base = {
  issuer: "https://sso.example.org/realms/acme",
  clientId: "keel",
  groupClaim: "groups",
  localSignIn: true,
  breakGlassEmail: null,
};

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  admin = await seedUser(db, "admin@example.test", ["admin"]);
  approver = await seedUser(db, "ap@example.test", ["approver"]);
  operator = await seedUser(db, "op@example.test", ["operator"]);
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x));
const everywhere = async (needle: string) => {
  const rows = [
    ...(await db.auditEvent.findMany()).map(text),
    ...(await db.changeRequest.findMany()).map(text),
    ...(await db.oidcConfig.findMany()).map((r) =>
      text({ ...r, clientSecretSealed: Buffer.from(r.clientSecretSealed ?? []).toString("latin1") }),
    ),
  ];
  return rows.some((r) => r.includes(needle));
};

describe("identity provider settings", () => {
  it("an admin sets a map granting operator at once; the secret is sealed and never read back", async () => {
    await as(admin).oidc.set({ ...base, clientSecret: "first-secret-value", roleMap: "keel-ops:operator" });
    const got = await as(admin).oidc.get();
    expect(got).toMatchObject({
      source: "settings",
      issuer: base.issuer,
      hasClientSecret: true,
      roleMap: "keel-ops:operator",
      breakGlassEmail: "admin@keel.local",
    });
    expect(JSON.stringify(got)).not.toContain("first-secret-value");
    expect(await everywhere("first-secret-value")).toBe(false);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { action: "oidc.configure" } });
    expect(audit.detail).toMatchObject({ secret: "set", roleMap: "keel-ops:operator", approvedBy: [] });
  });

  it("a map granting approver waits for an approver, who is recorded as a voucher", async () => {
    await expect(
      as(admin).oidc.set({
        ...base,
        clientSecret: "second-secret-value",
        roleMap: "keel-ops:operator,keel-approvers:approver",
      }),
    ).rejects.toThrow(/needs 1 approval\(s\) from approver.*Change request \d+/);
    expect(await everywhere("second-secret-value")).toBe(false);
    const cr = await db.changeRequest.findFirstOrThrow({
      where: { kind: "oidc.configure", state: "pending" },
    });
    expect((await as(approver).policy.approveChange({ id: cr.id, digest: cr.digest })).state).toBe("applied");
    const row = await db.oidcConfig.findUniqueOrThrow({ where: { id: 1 } });
    expect(row).toMatchObject({ updatedById: admin.id, approvedByIds: [approver.id] });
    expect((await as(admin).oidc.get())!.roleMap).toBe("keel-ops:operator,keel-approvers:approver");
  });

  it("refuses non-admins, a plain-http issuer elsewhere and a bad role map, saying what to write", async () => {
    await expect(as(operator).oidc.set({ ...base, roleMap: "x:operator" })).rejects.toThrow();
    await expect(
      as(admin).oidc.set({ ...base, issuer: "http://sso.example.org", roleMap: "x:operator" }),
    ).rejects.toThrow(/must use https/);
    await expect(as(admin).oidc.set({ ...base, roleMap: "ops:root" })).rejects.toThrow(
      /"ops:root".*"root" is not one/,
    );
    await expect(as(admin).oidc.set({ ...base, roleMap: "" })).rejects.toThrow(/role map is empty/);
    expect(await db.auditEvent.count({ where: { action: "oidc.configure" } })).toBe(2);
  });
});
