// Changes a rollout that has not started (hosts, waves, threshold, parallelism), or plans it again
// after its approvals lapsed (a host changed). The plan gets a new digest, so every approval given
// so far lapses and the policy is asked again, on the hosts' facts as they are now.
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { recordPlanVersion } from "./plan-changes";
import { confirmDecision, decideRollout, hostRows, plannedFields, type Actor } from "./create-rollout";
import { nowOf, type RolloutDeps, type TRolloutSpec } from "./types";

export async function replanRollout(deps: RolloutDeps, actor: Actor, rolloutId: string, spec: TRolloutSpec) {
  const { db } = deps;
  const r = await db.rollout.findUnique({
    where: { id: rolloutId },
    select: {
      id: true,
      number: true,
      state: true,
      createdById: true,
      app: true,
      action: true,
      startedAt: true,
    },
  });
  if (!r) throw new AppError("NOT_FOUND", { message: "no such rollout" });
  if (r.createdById !== actor.id && !actor.roles.includes("admin"))
    throw new AppError("FORBIDDEN", {
      message: `Only the requester or an admin may change rollout ${r.number}.`,
    });
  // Not started: waiting, approved, or paused because its approvals lapsed before the start.
  const replannable = (x: { state: string; startedAt: Date | null }) =>
    ["awaiting_approval", "approved"].includes(x.state) || (x.state === "paused" && !x.startedAt);
  if (!replannable(r))
    throw new AppError("CONFLICT", {
      message: `Rollout ${r.number} is ${r.state}; only a rollout that has not started can be changed${r.state === "paused" ? " (cancel it and create a new one: hosts already done are planned as nothing to do)" : ""}.`,
    });
  if (spec.app !== r.app || spec.action !== r.action)
    throw new AppError("BAD_REQUEST", {
      message: "A rollout keeps its app and action; create a new rollout instead.",
    });
  const at = nowOf(deps);
  const decided = await decideRollout(db, actor, spec, {
    at,
    subject: `rollout:${r.number}`,
    releases: deps.releases,
  });
  const { plan, digest, decision } = decided;
  const fields = plannedFields(spec, decided);
  return db.$transaction(async (tx) => {
    await confirmDecision(tx, actor, decided, at);
    const updated = await tx.rollout.updateMany({
      where: { id: r.id, startedAt: null, state: { in: ["awaiting_approval", "approved", "paused"] } },
      data: fields,
    });
    if (updated.count !== 1)
      throw new AppError("CONFLICT", {
        message: `Rollout ${r.number} started meanwhile; it can no longer be changed.`,
      });
    await tx.rolloutHost.deleteMany({ where: { rolloutId: r.id } });
    await tx.rolloutHost.createMany({ data: hostRows(r.id, plan, digest) });
    await recordPlanVersion(tx, r.id, digest, plan);
    await appendAudit(tx, {
      actorId: actor.id,
      action: "rollout.replan",
      target: `rollout:${r.number}`,
      detail: { digest, totals: plan.totals, decision, note: "earlier approvals no longer count" },
    });
    return { digest, state: fields.state, decision };
  });
}
