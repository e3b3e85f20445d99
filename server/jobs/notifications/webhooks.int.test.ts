// Outgoing webhooks end to end against a real local HTTP receiver and real PostgreSQL: an approval
// request made by the rollout service arrives signed (the receiver verifies Keel-Signature with the
// secret shown once); 500s are retried with backoff until it answers 2xx; a receiver that never
// does leaves the delivery failed with its last error; a rolled-back audit event queues nothing;
// and a worker SIGKILLed mid-delivery loses nothing and repeats nothing another worker recorded.
import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { waitFor } from "@/server/test/wait-for";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { appendAudit } from "@/server/services/audit/append-audit";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { governed } from "@/server/services/policy/governed/govern";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { startNotificationWorker, type NotificationWorker } from "./worker";
import { startReceiver } from "./test-support/receiver";

const SECRET = "notifications-test-secret-0123456789abcdef";
const box = createSecretBox({ secret: SECRET, dataDir: "/nonexistent" });
let t: TestDatabase;
let db: PrismaClient;
let admin: { id: string; roles: string[] };
let worker: NotificationWorker | undefined;
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1"; // the receiver is on 127.0.0.1
});
afterAll(() => {
  delete process.env.KEEL_WEBHOOK_ALLOW_PRIVATE;
});
beforeEach(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  admin = await seedUser(db, "admin@example.test", ["admin"]);
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  for (const c of closers.splice(0)) await c();
  await db.$disconnect();
  await t.drop();
});

const deps = () => ({ db, box: () => box });
const addHook = (name: string, url: string, events: string[]) =>
  governed(deps(), admin, "notifications.addWebhook", { name, url, events }) as Promise<{
    id: string;
    secret: string;
  }>;

const until = (what: string, f: () => Promise<boolean>) =>
  waitFor(what, f, { timeoutMs: 60_000, everyMs: 50 });
const startWorker = (o: Partial<Parameters<typeof startNotificationWorker>[0]> = {}) =>
  (worker = startNotificationWorker({
    db,
    box,
    origin: "http://console.test",
    pollMs: 50,
    backoffBaseMs: 50,
    ...o,
  }));

describe("webhooks", () => {
  it("an approval request arrives signed after two 500s; the delivery lists 3 attempts, 200, and is audited", async () => {
    const key: { secret?: string } = {};
    const rx = await startReceiver(
      () => key.secret,
      (_r, n) => (n < 2 ? 500 : 204),
    );
    closers.push(rx.close);
    const hook = await addHook("ops", rx.url, ["approval.requested"]);
    const secret = (key.secret = hook.secret);
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    // The secret is stored sealed, not in clear.
    const stored = await db.notificationChannel.findUniqueOrThrow({ where: { id: hook.id } });
    expect(Buffer.from(stored.encryptedSecret!).includes(Buffer.from(secret))).toBe(false);

    const op = await seedUser(db, "op@example.test", ["operator"]);
    await seedHosts(db, 1, { prefix: "p", environment: "prod", app: "svc", current: "1.0" });
    await seedRelease(db, "svc", "1.1");
    const r = await createRollout({ db }, op, {
      action: "update",
      app: "svc",
      version: "1.1",
      targets: { q: "p-" },
      waves: ["100%"],
      failureThreshold: 0,
      parallelism: 1,
    });
    expect(r.decision.effect).toBe("needs_approval");
    expect(await db.notificationDelivery.count()).toBe(1); // queued with the audit entry, before any worker ran

    startWorker();
    await until(
      "the delivery",
      async () => (await db.notificationDelivery.findFirstOrThrow()).state === "delivered",
    );
    expect(rx.got.map((g) => g.status)).toEqual([500, 500, 204]);
    expect(new Set(rx.got.map((g) => g.delivery)).size).toBe(1); // the same delivery id each time
    expect(rx.got.every((g) => g.verified)).toBe(true);
    const body = JSON.parse(rx.got[2]!.body);
    expect(body).toMatchObject({
      event: "approval.requested",
      audit: { action: "rollout.create", actor: "op@example.test", target: `rollout:${r.number}` },
      url: `http://console.test/rollouts/${r.number}`,
    });
    expect(body.summary).toMatch(new RegExp(`^rollout:${r.number} waits for approval by op@example.test`));
    const d = await db.notificationDelivery.findFirstOrThrow();
    expect(d).toMatchObject({ attempts: 3, responseCode: 204, lastError: null, channelName: "ops" });
    const audit = await db.auditEvent.findMany({
      where: { action: { startsWith: "notification." } },
      orderBy: { id: "asc" },
    });
    expect(audit.map((a) => a.action)).toEqual(["notification.channel_add", "notification.delivered"]);
    expect(audit[1]!.detail).toMatchObject({ delivery: d.id, attempts: 3, responseCode: 204 });
    // Removing the channel keeps its deliveries listed under its name.
    await governed(deps(), admin, "notifications.remove", { id: hook.id });
    expect(await db.notificationDelivery.findFirstOrThrow()).toMatchObject({
      channelId: null,
      channelName: "ops",
      state: "delivered",
    });
  });

  it("gives up after the last attempt, keeping the last error; a rolled-back event queues nothing", async () => {
    const rx = await startReceiver(
      () => undefined,
      () => 503,
    );
    closers.push(rx.close);
    await addHook("down", rx.url, ["rollout.paused", "rollout.finished"]);
    await db
      .$transaction(async (tx) => {
        await appendAudit(tx, {
          actorId: null,
          action: "rollout.pause",
          target: "rollout:9",
          detail: { reason: "never happened" },
        });
        throw new Error("roll back");
      })
      .catch(() => undefined);
    expect(await db.notificationDelivery.count()).toBe(0);
    await appendAudit(db, {
      actorId: null,
      action: "rollout.pause",
      target: "rollout:7",
      detail: { reason: "wave 1: 2 host(s) failed" },
    });
    await appendAudit(db, {
      actorId: null,
      action: "rollout.wave",
      target: "rollout:7",
      detail: { wave: 2 },
    }); // no event
    startWorker({ maxAttempts: 3 });
    await until(
      "the delivery to fail",
      async () => (await db.notificationDelivery.findFirstOrThrow()).state === "failed",
    );
    expect(rx.got).toHaveLength(3);
    const d = await db.notificationDelivery.findFirstOrThrow();
    expect(d).toMatchObject({
      event: "rollout.paused",
      attempts: 3,
      responseCode: 503,
      lastError: "HTTP 503: receiver says no",
    });
    expect(await db.auditEvent.count({ where: { action: "notification.failed" } })).toBe(1);
  });

  it("refuses non-http URLs always and private addresses unless allowed, when added and when sent", async () => {
    await expect(addHook("f", "file:///etc/passwd", ["rollout.paused"])).rejects.toThrow(
      /must be http or https, not file/,
    );
    delete process.env.KEEL_WEBHOOK_ALLOW_PRIVATE;
    try {
      await expect(addHook("m", "http://169.254.169.254/latest", ["rollout.paused"])).rejects.toThrow(
        /private address \(169\.254\.169\.254\).*KEEL_WEBHOOK_ALLOW_PRIVATE=1/,
      );
      await expect(addHook("l", "http://localhost:9/x", ["rollout.paused"])).rejects.toThrow(
        /private address/,
      );
    } finally {
      process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1";
    }
    expect(await db.notificationChannel.count()).toBe(0);

    // Added while allowed; when private targets are refused again, delivery fails at once, unsent.
    const rx = await startReceiver(
      () => undefined,
      () => 200,
    );
    closers.push(rx.close);
    await addHook("local", rx.url.replace("127.0.0.1", "localhost"), ["rollout.paused"]);
    await appendAudit(db, {
      actorId: null,
      action: "rollout.pause",
      target: "rollout:3",
      detail: { reason: "by hand" },
    });
    delete process.env.KEEL_WEBHOOK_ALLOW_PRIVATE;
    try {
      startWorker();
      await until(
        "the refusal",
        async () => (await db.notificationDelivery.findFirstOrThrow()).state === "failed",
      );
    } finally {
      process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1";
    }
    expect(await db.notificationDelivery.findFirstOrThrow()).toMatchObject({
      attempts: 1,
      responseCode: null,
      lastError: expect.stringMatching(/^webhook host localhost is a private address/),
    });
    expect(rx.got).toHaveLength(0);
  });

  it("a worker SIGKILLed mid-delivery: the next worker delivers the rest; nothing is lost or sent again", async () => {
    const key: { secret?: string; child?: ReturnType<typeof spawn> } = {};
    // The first two are accepted; the third kills the worker that sent it before it hears back.
    const rx = await startReceiver(
      () => key.secret,
      (_r, n) => {
        if (n === 2) {
          key.child!.kill("SIGKILL");
          return "drop";
        }
        return 200;
      },
    );
    closers.push(rx.close);
    key.secret = (await addHook("crash", rx.url, ["policy.proposed"])).secret;
    for (let v = 2; v <= 5; v++)
      await appendAudit(db, {
        actorId: admin.id,
        action: "policy.propose",
        target: `policy:v${v}`,
        detail: {},
      });

    const child = (key.child = spawn(
      process.execPath,
      ["--import", "tsx", "server/jobs/notifications/test-support/notify-worker.ts"],
      {
        env: { ...process.env, DATABASE_URL: t.url, KEEL_SECRET: SECRET },
        stdio: ["ignore", "inherit", "inherit"],
      },
    ));
    const exited = new Promise((r) => child.once("exit", r));
    await exited;
    expect(rx.got.map((g) => g.status)).toEqual([200, 200, "dropped"]);
    const held = await db.notificationDelivery.findMany({ where: { state: "delivering" } });
    expect(held).toHaveLength(1); // claimed by the dead worker, under its lease

    startWorker({ workerId: "survivor" });
    await until(
      "all four delivered",
      async () => (await db.notificationDelivery.count({ where: { state: "delivered" } })) === 4,
    );
    const accepted = rx.got.filter((g) => g.status === 200);
    expect(accepted).toHaveLength(4);
    expect(new Set(accepted.map((g) => g.delivery)).size).toBe(4); // each accepted exactly once
    expect(rx.got.filter((g) => g.delivery === held[0]!.id).map((g) => g.status)).toEqual(["dropped", 200]);
    expect(rx.got.every((g) => g.verified)).toBe(true);
    expect(await db.auditEvent.count({ where: { action: "notification.delivered" } })).toBe(4);
  });
});
