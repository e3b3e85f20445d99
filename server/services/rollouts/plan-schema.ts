// The stored rollout plan (rollouts.plan, JSON) read back through its schema: every reader parses
// it with parseRolloutPlan instead of casting, so a row that is not a plan is a clear error naming
// the rollout, not a crash deep in a worker. Unknown keys are kept (the plan is what approvals
// bound their digest to); labels, groups and artifact are optional because plans made before they
// were recorded lack them (hostFactChanges then says the plan predates them).
import { z } from "zod";
import { AppError } from "@/server/errors";
import type { RolloutPlan } from "./types";

const ZPlanArtifact = z.looseObject({
  releaseId: z.string(),
  kind: z.enum(["full", "delta"]),
  parent: z.string().nullable(),
  digest: z.string(),
  bytes: z.number(),
  encoding: z.enum(["raw", "keel-delta-1"]),
});

const ZPlanHost = z.looseObject({
  hostId: z.string(),
  name: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()).optional(),
  groups: z.array(z.string()).optional(),
  wave: z.number().int(),
  action: z.enum(["install", "update", "nothing", "rollback"]),
  from: z.string().nullable(),
  to: z.string().nullable(),
  stream: z.enum(["full", "delta", "none"]),
  parent: z.string().nullable(),
  bytes: z.number(),
  diskNeeded: z.number(),
  artifact: ZPlanArtifact.optional(),
  excluded: z.enum(["key-changed", "unreachable"]).optional(),
  note: z.string().optional(),
});

export const ZRolloutPlan = z.looseObject({
  action: z.enum(["update", "rollback"]),
  app: z.string(),
  version: z.string().nullable(),
  policyVersion: z.number().int(),
  waves: z.array(z.number().int()),
  failureThreshold: z.number().int(),
  parallelism: z.number().int(),
  hosts: z.array(ZPlanHost),
  totals: z.looseObject({
    hosts: z.number(),
    install: z.number(),
    update: z.number(),
    rollback: z.number(),
    nothing: z.number(),
    bytes: z.number(),
    diskNeeded: z.number(),
  }),
  rootCommands: z
    .looseObject({ commands: z.array(z.enum(["health check", "activation hook"])), hosts: z.number() })
    .optional(),
});

/** The stored plan of rollout `number`, checked; an AppError (INTERNAL) naming what is wrong otherwise. */
export function parseRolloutPlan(value: unknown, number: number | string): RolloutPlan {
  const r = ZRolloutPlan.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? ` at ${first.path.join(".")}` : "";
    throw new AppError("INTERNAL", {
      message: `The stored plan of rollout ${number} is not a valid plan${where}: ${first?.message ?? "unreadable"}. Plan the rollout again.`,
    });
  }
  // Labels and groups may be missing from an old plan (see above); the readers check for that.
  return r.data as RolloutPlan;
}
