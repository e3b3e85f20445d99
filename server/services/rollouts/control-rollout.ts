// Start, pause, resume and cancel. Each is one short transaction under the rollout's row lock
// (and queued per rollout in this process: rollout-mutex.ts), so parallel calls serialise cheaply
// and each gets a clear answer; start and resume ask the policy again first, with the real time and
// the hosts' current facts — a host that changed since the plan makes the approvals lapse.
import type { Prisma, PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { advanceRollout } from "./advance-rollout";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { checkDispatch } from "./dispatch-check";
import type { Actor } from "./create-rollout";
import { lapseRollout } from "./lapse-rollout";
import { lockRolloutRow, serializeRollout } from "./rollout-mutex";
import { nowOf, type Clock } from "./types";

/** With `boss`, the first hosts are dispatched at once; without, the next worker sweep does it. */
export type ControlDeps = { db: PrismaClient; boss?: PgBoss; clock?: Clock };

type Tx = Prisma.TransactionClient;

/** Locks the rollout's row for the rest of the transaction and reads it. */
async function lockRollout(tx: Tx, id: string) {
  await lockRolloutRow(tx, id);
  return tx.rollout.findUniqueOrThrow({
    where: { id },
    select: {
      id: true,
      number: true,
      state: true,
      createdById: true,
      plan: true,
      planDigest: true,
      currentWave: true,
    },
  });
}

function mayControl(actor: Actor, r: { createdById: string }) {
  if (r.createdById !== actor.id && !actor.roles.includes("admin") && !actor.roles.includes("operator"))
    throw new AppError("FORBIDDEN", { message: "Only operators and admins control rollouts." });
}

const said = (state: string) => state.replace("_", " ");

export function startRollout(
  deps: ControlDeps,
  actor: Actor,
  id: string,
  verb: "start" | "resume" = "start",
) {
  return serializeRollout(id, () => startOnce(deps, actor, id, verb));
}

async function startOnce(deps: ControlDeps, actor: Actor, id: string, verb: "start" | "resume") {
  const { db } = deps;
  const at = nowOf(deps);
  const policy = await getActivePolicy({ db });
  const from = verb === "start" ? "approved" : "paused";
  const out = await db.$transaction(async (tx) => {
    const r = await lockRollout(tx, id);
    mayControl(actor, r);
    if (r.state !== from)
      throw new AppError("CONFLICT", {
        message:
          r.state === "running" && verb === "start"
            ? `Rollout ${r.number} is running already (started by someone else just now).`
            : `Rollout ${r.number} is ${said(r.state)}; only a${verb === "start" ? "n approved" : " paused"} rollout can ${verb}.`,
      });
    // The decision, on the hosts' facts as they are now, in this transaction.
    const verdict = await checkDispatch(tx, r, at, policy);
    if (!verdict.ok) {
      const reason = verdict.changes
        ? `its approvals lapsed: ${await lapseRollout(tx, r, verdict.changes, { actorId: actor.id, at: verb })}; plan it again`
        : verdict.reason;
      await appendAudit(tx, {
        actorId: actor.id,
        action: `rollout.${verb}_refused`,
        target: `rollout:${r.number}`,
        detail: { reason },
      });
      return { refused: `Rollout ${r.number} cannot ${verb} now: ${reason}.` };
    }
    // Resuming after the wave's failure threshold paused it means going on despite those failures:
    // they are acknowledged, and only further ones count against the threshold.
    const acknowledged =
      verb === "resume"
        ? await tx.rolloutHost.count({
            where: { rolloutId: id, wave: r.currentWave, state: { in: ["failed", "reverted"] } },
          })
        : 0;
    await tx.rollout.update({
      where: { id },
      data: {
        state: "running",
        pauseReason: null,
        acknowledgedFailures: acknowledged,
        ...(verb === "start" ? { startedAt: at, scheduledStartAt: null, scheduleError: null } : {}),
      },
    });
    if (verb === "resume")
      // Hosts that failed in the paused wave stay failed; the ones not yet reached go on.
      await tx.rolloutHost.updateMany({
        where: { rolloutId: id, state: "queued" },
        data: { state: "pending" },
      });
    await appendAudit(tx, {
      actorId: actor.id,
      action: `rollout.${verb}`,
      target: `rollout:${r.number}`,
      detail: { digest: r.planDigest },
    });
    return { refused: null };
  });
  if (out.refused) throw new AppError("POLICY_DENIED", { message: out.refused });
  if (deps.boss) await advanceRollout(db, deps.boss, id, `user:${actor.id}`);
  return { state: "running" as const };
}

export const resumeRollout = (deps: ControlDeps, actor: Actor, id: string) =>
  startRollout(deps, actor, id, "resume");

export function pauseRollout(deps: { db: PrismaClient }, actor: Actor, id: string) {
  return serializeRollout(id, () =>
    deps.db.$transaction(async (tx) => {
      const r = await lockRollout(tx, id);
      mayControl(actor, r);
      if (r.state === "paused")
        throw new AppError("CONFLICT", { message: `Rollout ${r.number} is paused already.` });
      if (r.state !== "running")
        throw new AppError("CONFLICT", { message: `Rollout ${r.number} is ${said(r.state)}, not running.` });
      await tx.rollout.update({
        where: { id },
        data: { state: "paused", pauseReason: "paused by a person" },
      });
      // Hosts already being worked on finish their step; queued ones wait.
      await tx.rolloutHost.updateMany({
        where: { rolloutId: id, state: "queued" },
        data: { state: "pending" },
      });
      await appendAudit(tx, {
        actorId: actor.id,
        action: "rollout.pause",
        target: `rollout:${r.number}`,
        detail: {},
      });
      return { state: "paused" as const };
    }),
  );
}

export function cancelRollout(deps: { db: PrismaClient }, actor: Actor, id: string) {
  return serializeRollout(id, () =>
    deps.db.$transaction(async (tx) => {
      const r = await lockRollout(tx, id);
      mayControl(actor, r);
      if (!["awaiting_approval", "approved", "running", "paused"].includes(r.state))
        throw new AppError("CONFLICT", {
          message: `Rollout ${r.number} is ${said(r.state)}; it cannot be cancelled.`,
        });
      await tx.rollout.update({
        where: { id },
        data: { state: "cancelled", finishedAt: new Date(), scheduledStartAt: null },
      });
      await tx.rolloutHost.updateMany({
        where: { rolloutId: id, state: { in: ["pending", "queued"] } },
        data: { state: "cancelled" },
      });
      await appendAudit(tx, {
        actorId: actor.id,
        action: "rollout.cancel",
        target: `rollout:${r.number}`,
        detail: {},
      });
      return { state: "cancelled" as const };
    }),
  );
}
