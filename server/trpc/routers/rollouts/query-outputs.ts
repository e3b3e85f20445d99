// What the rollouts queries (list, get, pendingApprovals) and the preview answer, declared and
// checked (`.output()`); the mutations' answers are in outputs.ts. The stored plan is checked with
// the plan's own schema (plan-schema.ts) and passed on as it is (unknown keys kept).
import { z } from "zod";
import { ZPlanArtifact, ZRolloutPlan } from "@/server/services/rollouts/plan-schema";
import type { RolloutPlan } from "@/server/services/rollouts/types";
import { ZPolicyDecisionOut } from "@/server/trpc/routers/policy/outputs";
import { ZDigest, ZState } from "./outputs";

const ZPlanOut = z.custom<RolloutPlan>((v) => ZRolloutPlan.safeParse(v).success, {
  message: "not a rollout plan",
});
const ZCount = z.number().int();

/** What the list and the rollout's page both show first. */
const rolloutHead = {
  id: z.uuid(),
  number: ZCount,
  action: z.string(),
  app: z.string(),
  version: z.string().nullable(),
  state: ZState,
  pauseReason: z.string().nullable(),
};

export const ZRolloutListOut = z.strictObject({
  total: ZCount,
  rows: z.array(
    z.strictObject({
      ...rolloutHead,
      currentWave: ZCount,
      waveSizes: z.array(ZCount),
      requiredApprovals: ZCount,
      createdAt: z.date(),
      startedAt: z.date().nullable(),
      finishedAt: z.date().nullable(),
      createdById: z.string(),
      requester: z.string(),
      /** Hosts per host state. */
      hosts: z.record(z.string(), ZCount),
    }),
  ),
});

const ZRolloutHostOut = z.strictObject({
  hostId: z.string(),
  hostName: z.string(),
  wave: ZCount,
  action: z.string(),
  streamKind: z.string(),
  parentVersion: z.string().nullable(),
  plannedBytes: z.number(),
  state: z.string(),
  step: z.string().nullable(),
  bytesSent: z.number(),
  error: z.string().nullable(),
  attempts: ZCount,
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});

export const ZRolloutDetailOut = z.strictObject({
  ...rolloutHead,
  lapse: z.strictObject({ reason: z.string(), at: z.date().nullable() }).nullable(),
  schedule: z.strictObject({ at: z.date(), by: z.string().nullable() }).nullable(),
  scheduleError: z.string().nullable(),
  /** The request's targets as stored (a host filter); the page sends them back to plan again. */
  targets: z.unknown(),
  waveSpec: z.array(z.string()),
  waveSizes: z.array(ZCount),
  currentWave: ZCount,
  failureThreshold: ZCount,
  parallelism: ZCount,
  plan: ZPlanOut,
  planDigest: ZDigest,
  decision: z.looseObject({
    effect: z.string(),
    reasons: z.array(z.string()),
    approvals: ZCount.optional(),
    approverRole: z.string().optional(),
  }),
  policyVersion: ZCount,
  requiredApprovals: ZCount,
  approverRole: z.string().nullable(),
  validApprovals: ZCount,
  createdById: z.string(),
  requester: z.string(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  approvals: z.array(
    z.strictObject({
      approver: z.string(),
      verdict: z.string(),
      comment: z.string(),
      at: z.date(),
      expiresAt: z.date(),
      current: z.boolean(),
      lapsed: z.boolean(),
    }),
  ),
  hosts: z.array(ZRolloutHostOut),
});

const ZStream = z.enum(["full", "delta", "none"]);
const ZPlanRuntimeOut = z.strictObject({
  runtime: z.string(),
  versions: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  stream: ZStream,
  parent: z.string().nullable(),
  bytes: z.number(),
  diskNeeded: z.number(),
  artifact: ZPlanArtifact.optional(),
});
const ZRuntimeUseOut = z.strictObject({
  app: z.string(),
  version: z.string(),
  versions: z.string(),
  hosts: ZCount,
});

const ZPendingRolloutOut = z.strictObject({
  id: z.uuid(),
  number: ZCount,
  action: z.string(),
  app: z.string(),
  version: z.string().nullable(),
  digest: ZDigest,
  requester: z.string(),
  createdAt: z.date(),
  reasons: z.array(z.string()),
  requiredApprovals: ZCount,
  approverRole: z.string().nullable(),
  risk: z.strictObject({
    hosts: ZCount,
    environments: z.array(z.string()),
    bytes: z.number(),
    waves: z.array(ZCount),
    diskNeeded: z.number(),
    rootCommands: z
      .strictObject({ commands: z.array(z.enum(["health check", "activation hook"])), hosts: ZCount })
      .nullable(),
    kind: z.string().pipe(z.enum(["app", "runtime"])),
    affects: z.array(ZRuntimeUseOut).nullable(),
  }),
  windows: z.array(z.string()),
  nextStart: z.date().nullable(),
  hosts: z.array(
    z.strictObject({
      name: z.string(),
      environment: z.string().nullable(),
      wave: ZCount,
      action: z.enum(["install", "update", "nothing", "rollback"]),
      from: z.string().nullable(),
      to: z.string().nullable(),
      stream: ZStream,
      parent: z.string().nullable(),
      bytes: z.number(),
      diskNeeded: z.number(),
      note: z.string().nullable(),
      excluded: z.enum(["key-changed", "unreachable"]).nullable(),
      runtimes: z.array(ZPlanRuntimeOut).nullable(),
    }),
  ),
  hostCount: ZCount,
  canAnswer: z.boolean(),
  isMine: z.boolean(),
  changedSinceApproval: z
    .strictObject({ approvedAt: z.date(), approvedBy: z.array(z.string()), changes: z.array(z.string()) })
    .nullable(),
});

export const ZPendingApprovalsOut = z.strictObject({
  rollouts: z.array(ZPendingRolloutOut),
  lapsed: z.array(
    z.strictObject({
      id: z.uuid(),
      number: ZCount,
      action: z.string(),
      app: z.string(),
      version: z.string().nullable(),
      reason: z.string(),
      lapsedAt: z.date().nullable(),
      approvers: z.array(z.string()),
      yours: z.boolean(),
      isMine: z.boolean(),
    }),
  ),
  policies: z.array(
    z.strictObject({
      id: z.uuid(),
      version: ZCount,
      digest: ZDigest,
      comment: z.string(),
      createdAt: z.date(),
      canAnswer: z.boolean(),
    }),
  ),
});

export const ZPreviewOut = z.strictObject({
  plan: ZPlanOut,
  digest: ZDigest,
  decision: ZPolicyDecisionOut,
  policyVersion: ZCount,
});
