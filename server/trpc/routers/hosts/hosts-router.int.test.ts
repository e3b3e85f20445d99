// The hosts/apps/groups API with real PostgreSQL: auditors read everything and change nothing
// (enroll, import, remove, labels, refresh, targets all refused), admins enroll and are audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createCaller } from "@/server/trpc/root";
import { createContextInner, type Role } from "@/server/trpc/init";

const FP = "SHA256:" + "B".repeat(43);

describe("hosts API roles (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const as = (role: Role) =>
    createCaller(
      createContextInner({
        db,
        user: { id: `u-${role}`, email: `${role}@keel.local`, name: role, roles: [role] },
      }),
    );

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (const role of ["admin", "auditor", "operator"] as const)
      await db.user.create({
        data: { id: `u-${role}`, email: `${role}@keel.local`, name: role, roles: [role] },
      });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("an admin imports a host (audited); an auditor sees it but every change is refused", async () => {
    const csv = `name,address,fingerprint,labels\napi-1,10.1.0.2,${FP},role=api\n`;
    const r = await as("admin").hosts.import({ format: "csv", text: csv });
    expect(r.outcomes).toEqual([expect.objectContaining({ name: "api-1", status: "enrolled" })]);
    const audit = await db.auditEvent.findMany({ where: { action: "host.enroll" } });
    expect(audit.map((a) => [a.actorId, a.target])).toEqual([["u-admin", "host:api-1"]]);

    const auditor = as("auditor");
    const list = await auditor.hosts.list({ filter: { labels: { role: "api" } } });
    expect(list.rows.map((h) => h.name)).toEqual(["api-1"]);
    const id = list.rows[0]!.id;
    expect((await auditor.hosts.get({ id })).hostKeyFingerprint).toBe(FP);
    expect((await auditor.hosts.exportCsv({ table: "hosts" })).csv).toContain("api-1,10.1.0.2");
    await expect(auditor.apps.list()).resolves.toEqual([]);

    const refused = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(TRPCError);
      expect((e as TRPCError).code).toBe("FORBIDDEN");
    };
    await refused(auditor.hosts.enroll({ name: "x-1", address: "10.1.0.3", acceptedFingerprint: FP }));
    await refused(auditor.hosts.fetchHostKey({ address: "10.1.0.3" }));
    await refused(auditor.hosts.import({ format: "csv", text: csv }));
    await refused(auditor.hosts.remove({ id }));
    await refused(auditor.hosts.setLabels({ hostIds: [id], set: { a: "b" } }));
    await refused(auditor.hosts.refresh({ hostIds: [id] }));
    await refused(auditor.apps.setTarget({ app: "nginx", version: "1.0", scope: { kind: "fleet" } }));
    await refused(auditor.groups.save({ name: "g", kind: "static" }));
    // An operator organises hosts but may not enroll or remove them.
    await as("operator").hosts.setLabels({ hostIds: [id], set: { tier: "gold" } });
    await refused(as("operator").hosts.remove({ id }));
    expect((await auditor.hosts.get({ id })).labels).toEqual({ role: "api", tier: "gold" });
    expect(await db.host.count()).toBe(1);
  });

  it("rejects bad input at the API: names, fingerprints, extra fields", async () => {
    const admin = as("admin");
    const bad = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      expect((e as TRPCError).code).toBe("BAD_REQUEST");
    };
    await bad(admin.hosts.enroll({ name: "-rf", address: "10.1.0.3", acceptedFingerprint: FP }));
    await bad(admin.hosts.enroll({ name: "ok", address: "10.1.0.3;reboot", acceptedFingerprint: FP }));
    await bad(admin.hosts.enroll({ name: "ok", address: "10.1.0.3", acceptedFingerprint: "MD5:aa" }));
    await bad(
      admin.hosts.enroll({
        name: "ok",
        address: "10.1.0.3",
        acceptedFingerprint: FP,
        role: "admin",
      } as never),
    );
    await bad(admin.hosts.list({ filter: { app: "../etc" } }));
    expect(await db.host.count()).toBe(1);
  });
});
