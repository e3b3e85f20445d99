// A HostExecutor for the worker-crash test: it "installs" by writing to a ledger table, slowly, and
// on reconcile asks the ledger the way the real executor asks the host's agent. Used by
// worker-crash.int.test.ts in-process and by ledger-worker.ts in a child process that gets SIGKILLed.
import type { PrismaClient } from "@prisma/client";
import type { HostExecutor } from "@/server/jobs/rollouts/executor";

export const LEDGER_DDL = [
  `CREATE TABLE IF NOT EXISTS test_host_state (host TEXT NOT NULL, version TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS test_exec_log (host TEXT NOT NULL, worker TEXT NOT NULL, phase TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())`,
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function ledgerExecutor(db: PrismaClient, worker: string, ms = 1500): HostExecutor {
  const log = (host: string, phase: string) =>
    db.$executeRaw`INSERT INTO test_exec_log (host, worker, phase) VALUES (${host}, ${worker}, ${phase})`;
  return {
    async run(input, progress) {
      const host = input.host.name;
      const to = input.plan.to!;
      if (input.reconcile) {
        const [row] = await db.$queryRaw<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM test_host_state WHERE host = ${host} AND version = ${to}`;
        if (row!.n > 0) {
          await log(host, "reconciled");
          return { outcome: "succeeded", detail: "found done" };
        }
      }
      await log(host, "start");
      await progress({ step: "send" });
      await sleep(ms / 2);
      // The change lands on the "host" here; the reply comes later and may be lost.
      await db.$executeRaw`INSERT INTO test_host_state (host, version) VALUES (${host}, ${to})`;
      await sleep(ms / 2);
      await log(host, "end");
      return { outcome: "succeeded" };
    },
  };
}
