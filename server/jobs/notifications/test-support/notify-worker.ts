// Child process for notifications.int.test.ts: a notification worker that takes one delivery at a
// time with a short lease, to be killed with SIGKILL mid-delivery.
import { createDb } from "@/server/db";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { startNotificationWorker } from "@/server/jobs/notifications/worker";

const db = createDb(process.env.DATABASE_URL!);
startNotificationWorker({
  db,
  box: createSecretBox({ secret: process.env.KEEL_SECRET, dataDir: "/nonexistent" }),
  origin: "http://console.test",
  workerId: "doomed",
  pollMs: 50,
  leaseMs: 1500,
  batch: 1,
  backoffBaseMs: 50,
});
console.log("ready");
