// Start, pause, resume and cancel. Start and resume are conditional updates, so two at once give
// exactly one run; both ask the policy again with the real time first (window, approvals).
import type { PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { AppError } from "@/server/errors";
import { advanceRollout } from "@/server/jobs/rollouts/advance-rollout";
import { appendAudit } from "../audit/append-audit";
import { checkDispatch } from "./dispatch-check";
import type { Actor } from "./create-rollout";
import { nowOf, type Clock } from "./types";

/** With `boss`, the first hosts are dispatched at once; without, the next worker sweep does it. */
export type ControlDeps = { db: PrismaClient; boss?: PgBoss; clock?: Clock };

async function load(db: PrismaClient, id: string) {
  const r = await db.rollout.findUnique({
    where: { id },
    select: { id: true, number: true, state: true, createdById: true, plan: true, planDigest: true },
  });
  if (!r) throw new AppError("NOT_FOUND", { message: "no such rollout" });
  return r;
}

function mayControl(actor: Actor, r: { createdById: string }) {
  if (r.createdById !== actor.id && !actor.roles.includes("admin") && !actor.roles.includes("operator"))
    throw new AppError("FORBIDDEN", { message: "Only operators and admins control rollouts." });
}

export async function startRollout(deps: ControlDeps, actor: Actor, id: string, verb: "start" | "resume" = "start") {
  const { db } = deps;
  const r = await load(db, id);
  mayControl(actor, r);
  const from = verb === "start" ? "approved" : "paused";
  if (r.state !== from)
    throw new AppError("CONFLICT", {
      message: `Rollout ${r.number} is ${r.state.replace("_", " ")}; only a${verb === "start" ? "n approved" : " paused"} rollout can ${verb}.`,
    });
  const verdict = await checkDispatch(db, r, nowOf(deps));
  if (!verdict.ok) {
    await appendAudit(db, { actorId: actor.id, action: `rollout.${verb}_refused`, target: `rollout:${r.number}`, detail: { reason: verdict.reason } });
    throw new AppError("POLICY_DENIED", { message: `Rollout ${r.number} cannot ${verb} now: ${verdict.reason}.` });
  }
  // Resuming after the wave's failure threshold paused it means going on despite those failures:
  // they are acknowledged, and only further ones count against the threshold.
  const current = await db.rollout.findUniqueOrThrow({ where: { id }, select: { currentWave: true } });
  const acknowledged =
    verb === "resume" ? await db.rolloutHost.count({ where: { rolloutId: id, wave: current.currentWave, state: { in: ["failed", "reverted"] } } }) : 0;
  const won = await db.rollout.updateMany({
    where: { id, state: from },
    data: { state: "running", pauseReason: null, acknowledgedFailures: acknowledged, ...(verb === "start" ? { startedAt: nowOf(deps) } : {}) },
  });
  if (won.count !== 1) throw new AppError("CONFLICT", { message: `Rollout ${r.number} was ${verb === "start" ? "started" : "resumed"} by someone else just now.` });
  if (verb === "resume")
    // Hosts that failed in the paused wave stay failed; the ones not yet reached go on.
    await db.rolloutHost.updateMany({ where: { rolloutId: id, state: "queued" }, data: { state: "pending" } });
  await appendAudit(db, { actorId: actor.id, action: `rollout.${verb}`, target: `rollout:${r.number}`, detail: { digest: r.planDigest } });
  if (deps.boss) await advanceRollout(db, deps.boss, id, `user:${actor.id}`);
  return { state: "running" as const };
}

export const resumeRollout = (deps: ControlDeps, actor: Actor, id: string) => startRollout(deps, actor, id, "resume");

export async function pauseRollout(deps: { db: PrismaClient }, actor: Actor, id: string) {
  const r = await load(deps.db, id);
  mayControl(actor, r);
  const won = await deps.db.rollout.updateMany({ where: { id, state: "running" }, data: { state: "paused", pauseReason: `paused by a person` } });
  if (won.count !== 1) throw new AppError("CONFLICT", { message: `Rollout ${r.number} is ${r.state}, not running.` });
  // Hosts already being worked on finish their step; queued ones wait.
  await deps.db.rolloutHost.updateMany({ where: { rolloutId: id, state: "queued" }, data: { state: "pending" } });
  await appendAudit(deps.db, { actorId: actor.id, action: "rollout.pause", target: `rollout:${r.number}`, detail: {} });
  return { state: "paused" as const };
}

export async function cancelRollout(deps: { db: PrismaClient }, actor: Actor, id: string) {
  const r = await load(deps.db, id);
  mayControl(actor, r);
  const won = await deps.db.rollout.updateMany({
    where: { id, state: { in: ["awaiting_approval", "approved", "running", "paused"] } },
    data: { state: "cancelled", finishedAt: new Date() },
  });
  if (won.count !== 1) throw new AppError("CONFLICT", { message: `Rollout ${r.number} is ${r.state}; it cannot be cancelled.` });
  await deps.db.rolloutHost.updateMany({ where: { rolloutId: id, state: { in: ["pending", "queued"] } }, data: { state: "cancelled" } });
  await appendAudit(deps.db, { actorId: actor.id, action: "rollout.cancel", target: `rollout:${r.number}`, detail: {} });
  return { state: "cancelled" as const };
}
