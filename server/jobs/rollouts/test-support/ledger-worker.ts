// Child process for worker-crash.int.test.ts: a rollout worker with the ledger executor.
import { createDb } from "@/server/db";
import { startRolloutWorker } from "@/server/jobs/rollouts/worker";
import { ledgerExecutor } from "./ledger-executor";

const url = process.env.DATABASE_URL!;
const db = createDb(url);
void startRolloutWorker({
  db,
  databaseUrl: url,
  executor: ledgerExecutor(db, "doomed"),
  concurrency: 3,
  sweepMs: 300,
  heartbeatMs: 300,
  staleAfterMs: 2000,
  workerId: "doomed",
}).then(() => console.log("ready"));
