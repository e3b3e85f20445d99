// Scheduled starts: a rollout worker starts the rollout at the time (or the hosts' next
// maintenance window) as the person who scheduled it, through the same checks as Start.
import { procedureFor } from "@/server/trpc/init";
import { scheduleRollout, unscheduleRollout } from "@/server/services/rollouts/schedule-rollout";
import { ZScheduledOut, ZUnscheduledOut } from "./outputs";
import { ZRolloutId, ZScheduleRollout } from "./schemas";

export const scheduleRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZScheduleRollout)
  .output(ZScheduledOut)
  .mutation(({ ctx, input }) =>
    scheduleRollout(
      { db: ctx.db },
      ctx.user,
      input.rolloutId,
      "at" in input ? { at: input.at } : { nextWindow: true },
    ),
  );

export const unscheduleRolloutRoute = procedureFor(["admin", "operator"])
  .input(ZRolloutId)
  .output(ZUnscheduledOut)
  .mutation(({ ctx, input }) => unscheduleRollout({ db: ctx.db }, ctx.user, input.rolloutId));
