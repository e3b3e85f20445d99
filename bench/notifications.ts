// Notifications benchmark, two questions, each against a baseline measured in the same run on a
// fresh embedded PostgreSQL:
//  1. What does the outbox add to appendAudit? Median per-append time of an event that notifies
//     (rollout.pause) with 0 and with 3 subscribed channels, against an action that is no event
//     (rollout.wave: the path every other append takes, unchanged but for a switch on the name).
//  2. How fast does the worker deliver? N signed webhooks through the outbox (claim, sign, POST,
//     record, audit) to a local receiver, against the same N signed POSTs sent directly with the
//     same concurrency.
// Prints the figures; docs/benchmarks.md "## Notifications" quotes them.
//   npm run bench:notifications [-- --appends 400 --deliveries 400]
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@/infra/start/postgres";
import { applyMigrations } from "@/prisma/migrate";
import { createDb } from "@/server/db";
import { appendAudit } from "@/server/services/audit/append-audit";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { addWebhook } from "@/server/services/notifications/channels";
import { signBody } from "@/server/services/notifications/sign";
import { startNotificationWorker } from "@/server/jobs/notifications/worker";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const APPENDS = opt("appends", 400);
const DELIVERIES = opt("deliveries", 400);
const CONCURRENCY = 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1";
  const work = mkdtempSync(join(tmpdir(), "keel-bench-notify-"));
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "pg") });
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  try {
    const dbUrl = pg.urlFor("postgres");
    await applyMigrations(dbUrl);
    const db = createDb(dbUrl);
    const box = createSecretBox({ secret: "bench-notifications-secret-0123456789abcdef", dataDir: work });
    const [{ id: actorId }] = [
      await db.user.create({
        data: { id: "bench-admin", email: "bench@keel.local", name: "bench", roles: ["admin"] },
        select: { id: true },
      }),
    ];

    // 1. appendAudit: interleaved so drift on the shared machine hits all three alike.
    const time = async (action: string) => {
      const t = process.hrtime.bigint();
      await appendAudit(db, { actorId: null, action, target: "rollout:1", detail: { reason: "bench" } });
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (let i = 0; i < 50; i++) await time("rollout.wave"); // warm-up: connections, plans, caches
    const noEvent: number[] = [];
    const event0: number[] = [];
    for (let i = 0; i < APPENDS; i++) {
      noEvent.push(await time("rollout.wave"));
      event0.push(await time("rollout.pause"));
    }
    for (let i = 0; i < 3; i++)
      await addWebhook({ db, box, actorId }, { name: `c${i}`, url, events: ["rollout.paused"] });
    const noEventB: number[] = [];
    const event3: number[] = [];
    for (let i = 0; i < APPENDS; i++) {
      noEventB.push(await time("rollout.wave"));
      event3.push(await time("rollout.pause"));
    }
    const base = median([...noEvent, ...noEventB]);
    console.log(
      `appendAudit median over ${APPENDS} each: no event ${base.toFixed(2)} ms; rollout.pause, 0 channels ${median(event0).toFixed(2)} ms (×${(median(event0) / base).toFixed(2)}); 3 channels ${median(event3).toFixed(2)} ms (×${(median(event3) / base).toFixed(2)})`,
    );
    await db.notificationDelivery.deleteMany({});

    // 2. Delivery: the outbox and worker vs direct signed POSTs.
    for (let i = 0; i < DELIVERIES / 3; i++)
      await appendAudit(db, {
        actorId: null,
        action: "rollout.pause",
        target: `rollout:${i}`,
        detail: { reason: "bench" },
      });
    const total = await db.notificationDelivery.count();
    received = 0;
    const t0 = Date.now();
    const worker = startNotificationWorker({
      db,
      box,
      origin: "http://bench",
      pollMs: 5,
      batch: CONCURRENCY,
    });
    while ((await db.notificationDelivery.count({ where: { state: "delivered" } })) < total)
      await new Promise((r) => setTimeout(r, 20));
    const viaOutbox = (Date.now() - t0) / 1000;
    await worker.stop();
    const body = JSON.stringify({
      event: "rollout.paused",
      summary: "bench",
      audit: { detail: { reason: "bench" } },
    });
    const t1 = Date.now();
    for (let i = 0; i < total; i += CONCURRENCY)
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, total - i) }, () =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", "Keel-Signature": signBody("s", body) },
            body,
          }).then((r) => r.arrayBuffer()),
        ),
      );
    const direct = (Date.now() - t1) / 1000;
    console.log(
      `${total} webhooks, ${CONCURRENCY} at a time: outbox+worker ${(total / viaOutbox).toFixed(0)}/s (${viaOutbox.toFixed(2)} s), direct POSTs ${(total / direct).toFixed(0)}/s (${direct.toFixed(2)} s), ratio ×${(viaOutbox / direct).toFixed(1)}; receiver got ${received}`,
    );
    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), shared`);
    await db.$disconnect();
  } finally {
    server.close();
    await pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
