// Scheduled starts: "start at the next window" and "start at a given time", so that nobody has to
// press Start at night. Scheduling stores only the time and who asked; when it comes due a rollout
// worker starts the rollout through startRollout as that person, so the policy, the approvals, the
// window and the hosts' live facts are checked then, exactly as for the Start button. A refused
// start clears the schedule and leaves the reason on the rollout (decision 0019).
import type { PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { nextOpening, windowState } from "@/server/services/policy/windows";
import type { Actor } from "./create-rollout";
import { startRollout } from "./control-rollout";
import { lockRolloutRow, serializeRollout } from "./rollout-mutex";
import { parseRolloutPlan } from "./plan-schema";
import { nowOf, type Clock, type RolloutPlan } from "./types";

export type ScheduleDeps = { db: PrismaClient; clock?: Clock };
export type ScheduleInput = { at: Date } | { nextWindow: true };

/** How far ahead the next window is looked for (as on the approval card). */
const HORIZON_DAYS = 14;
const SCHEDULABLE = ["approved", "awaiting_approval"];

function mayControl(actor: Actor, r: { createdById: string }) {
  if (r.createdById !== actor.id && !actor.roles.includes("admin") && !actor.roles.includes("operator"))
    throw new AppError("FORBIDDEN", { message: "Only operators and admins schedule rollouts." });
}

const workingHosts = (plan: RolloutPlan) =>
  plan.hosts
    .filter((h) => h.action !== "nothing")
    .map((h) => ({ environment: h.environment, groups: h.groups ?? [] }));

export function scheduleRollout(deps: ScheduleDeps, actor: Actor, id: string, input: ScheduleInput) {
  return serializeRollout(id, async () => {
    const { db } = deps;
    const now = nowOf(deps);
    const windows = (await getActivePolicy({ db })).document.windows;
    return db.$transaction(async (tx) => {
      await lockRolloutRow(tx, id);
      const r = await tx.rollout.findUniqueOrThrow({
        where: { id },
        select: { number: true, state: true, createdById: true, plan: true },
      });
      mayControl(actor, r);
      if (!SCHEDULABLE.includes(r.state))
        throw new AppError("CONFLICT", {
          message: `Rollout ${r.number} is ${r.state.replace("_", " ")}; only an approved rollout or one awaiting approval can be scheduled.`,
        });
      const hosts = workingHosts(parseRolloutPlan(r.plan, r.number));
      let at: Date;
      if ("nextWindow" in input) {
        const open = nextOpening(hosts, windows, now, HORIZON_DAYS);
        if (!open) {
          const { closed } = windowState(hosts, windows, now);
          throw new AppError("CONFLICT", {
            message: `Rollout ${r.number} cannot be scheduled for the next window: its hosts' maintenance windows (${closed.join(", ")}) are never open together in the next ${HORIZON_DAYS} days. Change the windows in the policy or the rollout's targets.`,
          });
        }
        at = open;
      } else {
        at = input.at;
        if (Number.isNaN(at.getTime()))
          throw new AppError("BAD_REQUEST", { message: "the start time is not a valid date" });
        if (at.getTime() < now.getTime() - 60_000)
          throw new AppError("BAD_REQUEST", {
            message: `${at.toISOString()} is in the past; give a later time, or use Start.`,
          });
        // Refused now rather than at night: the start would be refused then for the same reason.
        const w = windowState(hosts, windows, at);
        if (!w.open) {
          const next = nextOpening(hosts, windows, at, HORIZON_DAYS);
          throw new AppError("CONFLICT", {
            message: `At ${at.toISOString()} the maintenance window(s) ${w.closed.join(", ")} of rollout ${r.number}'s hosts are closed${next ? `; they next open at ${next.toISOString()}` : ""}. Choose a time inside the window, or "next window".`,
          });
        }
      }
      await tx.rollout.update({
        where: { id },
        data: { scheduledStartAt: at, scheduledById: actor.id, scheduleError: null },
      });
      await appendAudit(tx, {
        actorId: actor.id,
        action: "rollout.schedule",
        target: `rollout:${r.number}`,
        detail: { at: at.toISOString(), nextWindow: "nextWindow" in input },
      });
      return { scheduledStartAt: at };
    });
  });
}

export function unscheduleRollout(deps: ScheduleDeps, actor: Actor, id: string) {
  return serializeRollout(id, () =>
    deps.db.$transaction(async (tx) => {
      await lockRolloutRow(tx, id);
      const r = await tx.rollout.findUniqueOrThrow({
        where: { id },
        select: { number: true, createdById: true, scheduledStartAt: true },
      });
      mayControl(actor, r);
      if (!r.scheduledStartAt)
        throw new AppError("CONFLICT", { message: `Rollout ${r.number} has no scheduled start.` });
      await tx.rollout.update({ where: { id }, data: { scheduledStartAt: null, scheduledById: null } });
      await appendAudit(tx, {
        actorId: actor.id,
        action: "rollout.unschedule",
        target: `rollout:${r.number}`,
        detail: { at: r.scheduledStartAt.toISOString() },
      });
      return { scheduledStartAt: null };
    }),
  );
}

/**
 * The worker's tick: starts every rollout whose scheduled time has come. Each due schedule is
 * claimed and cleared in one statement (SKIP LOCKED), so with any number of workers exactly one
 * tries the start. A worker that dies between the claim and the start leaves an approved rollout
 * that did not start: the schedule is then lost, never carried out twice (at most once).
 */
export async function startDueRollouts(deps: { db: PrismaClient; boss?: PgBoss; clock?: Clock }) {
  const { db } = deps;
  const now = nowOf(deps);
  // who scheduled it stays (scheduled_by_id), so that a refusal can say whose schedule it was.
  const due = await db.$queryRaw<{ id: string; number: number; by: string | null }[]>`
    UPDATE rollouts SET scheduled_start_at = NULL
    WHERE id IN (
      SELECT id FROM rollouts WHERE scheduled_start_at <= ${now} ORDER BY scheduled_start_at LIMIT 20 FOR UPDATE SKIP LOCKED
    )
    RETURNING id::text, number, scheduled_by_id AS by`;
  const results: { number: number; started: boolean; error?: string }[] = [];
  for (const d of due) results.push(await startOne(deps, d));
  return results;
}

async function startOne(
  deps: { db: PrismaClient; boss?: PgBoss; clock?: Clock },
  d: { id: string; number: number; by: string | null },
) {
  const { db } = deps;
  const user = d.by
    ? await db.user.findUnique({ where: { id: d.by }, select: { id: true, roles: true, disabled: true } })
    : null;
  let error: string;
  try {
    if (!user || user.disabled)
      throw new Error("the person who scheduled it no longer has an active account");
    await startRollout(deps, { id: user.id, roles: user.roles }, d.id);
    return { number: d.number, started: true };
  } catch (e) {
    error = (e as Error).message;
  }
  await db.$transaction(async (tx) => {
    await tx.rollout.update({ where: { id: d.id }, data: { scheduleError: error } });
    await appendAudit(tx, {
      actorId: d.by,
      action: "rollout.schedule_failed",
      target: `rollout:${d.number}`,
      detail: { reason: error },
    });
  });
  return { number: d.number, started: false, error };
}
