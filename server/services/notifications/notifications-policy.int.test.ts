// Managing notifications is governed (manage_notifications): admins may under the default policy;
// a policy stored before the action existed is asked about manage_keys instead (so an upgrade
// neither locks admins out nor lets others in); a policy asking for approval turns an e-mail
// channel into a change request but refuses a webhook (its secret is shown once) with the reason.
import { afterEach, beforeEach, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { activatePolicy } from "@/server/test/policy";
import { seedUser } from "@/prisma/seed/fleet";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { governed } from "@/server/services/policy/governed/govern";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";

const box = createSecretBox({ secret: "policy-notifications-test-secret-01234567", dataDir: "/nonexistent" });
let t: TestDatabase;
let db: PrismaClient;
beforeEach(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1";
});
afterEach(async () => {
  delete process.env.KEEL_WEBHOOK_ALLOW_PRIVATE;
  await db.$disconnect();
  await t.drop();
});

const activate = (cedar: string) => activatePolicy(db, { ...DEFAULT_POLICY, cedar }, { comment: "test" });
const deps = () => ({ db, box: () => box });
const email = { name: "oncall", to: ["oncall@example.test"], roles: [], events: ["rollout.failed"] };
const hook = { name: "chat", url: "http://127.0.0.1:9/hook", events: ["rollout.failed"] };

it("admins may under the default policy; operators may not", async () => {
  const admin = await seedUser(db, "admin@example.test", ["admin"]);
  const op = await seedUser(db, "op@example.test", ["operator"]);
  await expect(governed(deps(), op, "notifications.addEmail", email)).rejects.toThrow(
    /no policy allows manage notifications for your roles \(operator\)/,
  );
  await expect(governed(deps(), admin, "notifications.addEmail", email)).resolves.toMatchObject({
    name: "oncall",
  });
  expect(await db.auditEvent.count({ where: { action: "change.denied" } })).toBe(1);
});

it("a stored policy written before manage_notifications existed governs it as manage_keys", async () => {
  const admin = await seedUser(db, "admin@example.test", ["admin"]);
  const op = await seedUser(db, "op@example.test", ["operator"]);
  await activate(DEFAULT_POLICY.cedar.replace(', Keel::Action::"manage_notifications"', ""));
  expect((await getActivePolicy({ db })).document.cedar).not.toContain("manage_notifications");
  await expect(governed(deps(), admin, "notifications.addWebhook", hook)).resolves.toMatchObject({
    name: "chat",
  });
  await expect(governed(deps(), op, "notifications.addEmail", email)).rejects.toThrow(
    /no policy allows manage keys .*the policy in force does not mention manage_notifications, so it was asked about manage_keys/,
  );
});

it("a policy that asks for approval: an e-mail channel waits as a change request, a webhook is refused with the reason", async () => {
  const admin = await seedUser(db, "admin@example.test", ["admin"]);
  await activate(
    DEFAULT_POLICY.cedar +
      `\n@id("notifications-need-approval")\n@reason("notification changes need an approver")\n@approvals("1")\n@approver_role("approver")\npermit (principal, action == Keel::Action::"manage_notifications", resource) when { principal.roles.contains("admin") };\n`,
  );
  await expect(governed(deps(), admin, "notifications.addEmail", email)).rejects.toThrow(
    /needs 1 approval\(s\) from approver .*Change request 1 waits/,
  );
  await expect(governed(deps(), admin, "notifications.addWebhook", hook)).rejects.toThrow(
    /a webhook's signing secret is shown once, to whoever adds it/,
  );
  expect(await db.notificationChannel.count()).toBe(0);
  expect(await db.changeRequest.count()).toBe(1);
});
