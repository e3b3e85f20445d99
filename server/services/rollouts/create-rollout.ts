// Creates a rollout: plans it, asks the policy (windows assumed open: the real time is checked at
// start and at every dispatch), and stores plan, digest and decision. A denied request is refused
// with the policy's reasons and audited; nothing is stored. The policy's answer that is stored is
// made again in the transaction that stores the plan, on the hosts' facts read there, which must
// still be those the plan records (planning may take a while: it can make incremental streams).
import type { Prisma, PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { recordPlanVersion } from "./plan-changes";
import { appendAudit } from "@/server/services/audit/append-audit";
import { evaluatePolicy } from "@/server/services/policy/evaluate-policy";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import type { PolicyDecision } from "@/server/services/policy/types";
import { describeChanges, liveFactChanges } from "./decision-facts";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { planRollout } from "./plan-rollout";
import { rolloutPolicyRequest } from "./policy-request";
import { nowOf, type RolloutDeps, type RolloutPlan, type TRolloutSpec } from "./types";

export type Actor = { id: string; roles: readonly string[] };

export function hostRows(
  rolloutId: string,
  plan: RolloutPlan,
  digest: string,
): Prisma.RolloutHostCreateManyInput[] {
  return plan.hosts.map((h) => ({
    rolloutId,
    hostId: h.hostId,
    hostName: h.name,
    wave: h.wave,
    action: h.action,
    streamKind: h.stream,
    parentVersion: h.parent,
    plannedBytes: BigInt(h.bytes),
    diskNeeded: BigInt(h.diskNeeded),
    state: h.action === "nothing" ? "skipped" : "pending",
    idempotencyKey: `${rolloutId}:${h.hostId}:${digest.slice(0, 16)}`,
  }));
}

/** Plan + policy for a spec; throws POLICY_DENIED (audited) when the policy says no. */
export async function decideRollout(
  db: PrismaClient,
  actor: Actor,
  spec: TRolloutSpec,
  opts: {
    at: Date;
    /** The audit target of a denial (default: the app). */
    subject?: string;
    /** false: a denial is not audited (the preview). */
    audit?: boolean;
    releases?: ReleaseDeps;
  },
) {
  const { at, subject } = opts;
  const policy = await getActivePolicy({ db });
  const { plan, digest } = await planRollout({ db, releases: opts.releases }, spec, policy.version);
  const decision = evaluatePolicy(
    policy.document,
    await rolloutPolicyRequest(db, actor, plan, { at, assumeWindowsOpen: true }),
  );
  if (decision.effect === "deny") {
    if (opts.audit !== false)
      await appendAudit(db, {
        actorId: actor.id,
        action: "rollout.denied",
        target: subject ?? `${spec.app}`,
        detail: {
          spec,
          reasons: decision.reasons,
          policies: decision.policies,
          policyVersion: policy.version,
        },
      });
    throw new AppError("POLICY_DENIED", {
      message: `The policy refuses this rollout: ${decision.reasons.join("; ")}.`,
      details: decision,
    });
  }
  return { policy, plan, digest, decision };
}

/**
 * In the transaction that stores a plan: the hosts' environment, labels and groups are still the
 * ones planned, and the policy's answer on them is the one given before. Else CONFLICT: plan again.
 */
export async function confirmDecision(
  tx: Prisma.TransactionClient,
  actor: Actor,
  { policy, plan, decision }: Awaited<ReturnType<typeof decideRollout>>,
  at: Date,
): Promise<PolicyDecision> {
  const { live, changes } = await liveFactChanges(tx, plan);
  if (changes.length > 0)
    throw new AppError("CONFLICT", {
      message: `${describeChanges(changes, "while the plan was being made")}; plan again.`,
    });
  const now = evaluatePolicy(
    policy.document,
    await rolloutPolicyRequest(tx, actor, plan, { at, assumeWindowsOpen: true, live }),
  );
  if (
    now.effect !== decision.effect ||
    (now.effect === "needs_approval" &&
      decision.effect === "needs_approval" &&
      now.approvals !== decision.approvals)
  )
    throw new AppError("CONFLICT", {
      message: "The hosts changed while the plan was being made; plan again.",
    });
  return now;
}

/** The columns a (re)plan sets: the spec's shape, the plan and its digest, and what the policy asks. */
export function plannedFields(
  spec: TRolloutSpec,
  { policy, plan, digest, decision }: Awaited<ReturnType<typeof decideRollout>>,
) {
  const needs = decision.effect === "needs_approval";
  return {
    version: spec.version ?? null,
    targets: spec.targets,
    waveSpec: spec.waves,
    waveSizes: plan.waves,
    failureThreshold: spec.failureThreshold,
    parallelism: spec.parallelism,
    plan: plan as unknown as Prisma.InputJsonValue,
    planDigest: digest,
    decision: decision as unknown as Prisma.InputJsonValue,
    policyVersion: policy.version,
    requiredApprovals: needs ? decision.approvals : 0,
    approverRole: needs ? decision.approverRole : null,
    state: needs ? ("awaiting_approval" as const) : ("approved" as const),
    // A new plan is a new decision: a lapse of the old one no longer applies.
    lapseReason: null,
    lapsedAt: null,
    pauseReason: null,
  };
}

export async function createRollout(deps: RolloutDeps, actor: Actor, spec: TRolloutSpec) {
  const { db } = deps;
  const at = nowOf(deps);
  const decided = await decideRollout(db, actor, spec, { at, releases: deps.releases });
  const { plan, digest, decision } = decided;
  return db.$transaction(async (tx) => {
    await confirmDecision(tx, actor, decided, at);
    const r = await tx.rollout.create({
      data: { action: spec.action, app: spec.app, ...plannedFields(spec, decided), createdById: actor.id },
      select: { id: true, number: true, state: true },
    });
    await tx.rolloutHost.createMany({ data: hostRows(r.id, plan, digest) });
    await recordPlanVersion(tx, r.id, digest, plan);
    await appendAudit(tx, {
      actorId: actor.id,
      action: "rollout.create",
      target: `rollout:${r.number}`,
      detail: {
        app: spec.app,
        version: spec.version ?? null,
        action: spec.action,
        digest,
        totals: plan.totals,
        decision,
      },
    });
    return { ...r, digest, decision, plan };
  });
}
