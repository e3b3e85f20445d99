// E-mail notifications through a real SMTP server (the maintained smtp-server package, listening
// on 127.0.0.1; no mail leaves the machine): a host whose key changed (flagged by the inventory
// service) is mailed to the channel's address and to the enabled approvers, with the SMTP user and
// password the admin set (stored sealed). A wrong password is a failed attempt with the server's
// answer, retried, then failed and audited.
import { afterEach, beforeEach, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { waitFor } from "@/server/test/wait-for";
import { seedHosts, seedUser } from "@/prisma/seed/fleet";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { governed } from "@/server/services/policy/governed/govern";
import { recordRefreshFailure } from "@/server/services/inventory/record-refresh-failure";
import { startNotificationWorker, type NotificationWorker } from "./worker";

const box = createSecretBox({
  secret: "email-notifications-test-secret-0123456789",
  dataDir: "/nonexistent",
});
let t: TestDatabase;
let db: PrismaClient;
let worker: NotificationWorker | undefined;
let smtp: SMTPServer;
let port: number;
const mails: { from: string; to: string[]; user: string | undefined; data: string }[] = [];

beforeEach(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  mails.length = 0;
  smtp = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _s, cb) {
      if (auth.username === "keel" && auth.password === "mail-pass-1") cb(null, { user: "keel" });
      else cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address).sort(),
          user: session.user as string | undefined,
          data: Buffer.concat(chunks)
            .toString("utf8")
            .replace(/\r\n[ \t]+/g, " ")
            .replace(/\r\n/g, "\n"), // headers unfolded
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  port = (smtp.server.address() as { port: number }).port;
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await new Promise<void>((r) => smtp.close(() => r()));
  await db.$disconnect();
  await t.drop();
});

const until = (what: string, f: () => Promise<boolean>) =>
  waitFor(what, f, { timeoutMs: 60_000, everyMs: 50 });

it("a changed host key is mailed to the address and the approvers, authenticated; a wrong password fails with the server's answer", async () => {
  const admin = await seedUser(db, "admin@example.test", ["admin"]);
  await seedUser(db, "appr@example.test", ["approver"]);
  const gone = await seedUser(db, "gone@example.test", ["approver"]);
  await db.user.update({ where: { id: gone.id }, data: { disabled: true } });
  const deps = { db, box: () => box };
  await governed(deps, admin, "notifications.setSmtp", {
    host: "127.0.0.1",
    port,
    tls: "none",
    username: "keel",
    password: "mail-pass-1",
    from: "keel@example.test",
  });
  const stored = await db.notificationSmtp.findUniqueOrThrow({ where: { id: 1 } });
  expect(Buffer.from(stored.encryptedPassword!).includes(Buffer.from("mail-pass-1"))).toBe(false);
  await governed(deps, admin, "notifications.addEmail", {
    name: "oncall",
    to: ["OnCall@Example.test"],
    roles: ["approver"],
    events: ["host.key_changed"],
  });

  const [host] = await seedHosts(db, 1, { prefix: "db", environment: "prod" });
  const fail = {
    kind: "key-changed" as const,
    message: "host db-000: its host key changed",
    presentedFingerprint: "SHA256:new",
  };
  await recordRefreshFailure({ db } as never, host!.id, fail);
  await recordRefreshFailure({ db } as never, host!.id, fail); // still flagged: not notified again
  expect(await db.notificationDelivery.count()).toBe(1);

  worker = startNotificationWorker({ db, box, origin: "http://console.test", pollMs: 50, backoffBaseMs: 50 });
  await until(
    "the mail",
    async () => (await db.notificationDelivery.findFirstOrThrow()).state === "delivered",
  );
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatchObject({
    from: "keel@example.test",
    to: ["appr@example.test", "oncall@example.test"],
    user: "keel",
  });
  expect(mails[0]!.data).toMatch(
    /^Subject: \[Keel\] host:db-000: its SSH host key changed; an admin must re-pin it$/m,
  );
  expect(mails[0]!.data).toMatch(/http:\/\/console\.test\/hosts\?q=db-000/);
  expect(await db.notificationDelivery.findFirstOrThrow()).toMatchObject({
    attempts: 1,
    responseCode: 250,
    event: "host.key_changed",
  });
  await worker.stop();

  // The admin changes the password to a wrong one: the attempt fails with the server's refusal.
  await governed(deps, admin, "notifications.setSmtp", {
    host: "127.0.0.1",
    port,
    tls: "none",
    username: "keel",
    password: "wrong",
    from: "keel@example.test",
  });
  await db.host.update({ where: { id: host!.id }, data: { hostKeyChanged: false } });
  await recordRefreshFailure({ db } as never, host!.id, fail);
  worker = startNotificationWorker({
    db,
    box,
    origin: "http://console.test",
    pollMs: 50,
    backoffBaseMs: 50,
    maxAttempts: 2,
  });
  await until(
    "the failure",
    async () => (await db.notificationDelivery.count({ where: { state: "failed" } })) === 1,
  );
  const failed = await db.notificationDelivery.findFirstOrThrow({ where: { state: "failed" } });
  expect(failed.attempts).toBe(2);
  expect(failed.lastError).toMatch(/^SMTP 127\.0\.0\.1:\d+: .*Invalid username or password/);
  expect(mails).toHaveLength(1);
  const actions = (
    await db.auditEvent.findMany({
      where: { action: { startsWith: "notification." } },
      orderBy: { id: "asc" },
    })
  ).map((a) => a.action);
  expect(actions).toEqual([
    "notification.smtp_set",
    "notification.channel_add",
    "notification.delivered",
    "notification.smtp_set",
    "notification.failed",
  ]);
  expect(await db.auditEvent.count({ where: { action: "host.key_changed" } })).toBe(2);
});
