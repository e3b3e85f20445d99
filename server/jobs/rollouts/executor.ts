// What a worker runs for one host of a rollout. The real executor (ssh-executor.ts) talks to the
// host's agent over SSH; the seam exists so the scheduling logic can be tested on its own.
import type { Sql } from "@/server/db";
import type { HostConnection } from "@/server/services/inventory/types";
import type { PlanHost } from "@/server/services/rollouts/types";

export type HostStepInput = {
  rollout: { id: string; number: number; action: "update" | "rollback"; app: string; version: string | null };
  host: HostConnection & { id: string };
  plan: PlanHost;
  /** True when an earlier attempt was claimed and never reported (worker died, reply lost): check the host first. */
  reconcile: boolean;
  idempotencyKey: string;
};

export type StepProgress = { step: string; bytesSent?: number; message?: string };

/**
 * What was run on the host during the step, in order (goes to the audit log with the step), and
 * what the host reported at the end, written to the inventory in the step's final transaction.
 */
type Ran = { commands?: string[]; record?: (tx: Sql) => Promise<void> };

export type HostStepResult =
  | ({ outcome: "succeeded"; detail?: string } & Ran)
  /** Activated, then the health check failed and the host went back to the version it ran before. */
  | ({ outcome: "reverted"; error: string } & Ran)
  | ({
      outcome: "failed";
      step: string;
      error: string;
      /** The host presented another SSH host key: it is flagged like a refresh would flag it. */
      hostKeyChanged?: { presented: string | null };
    } & Ran);

export interface HostExecutor {
  run(input: HostStepInput, progress: (p: StepProgress) => Promise<void>): Promise<HostStepResult>;
}
