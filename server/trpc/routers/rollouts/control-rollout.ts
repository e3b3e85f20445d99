// Start, pause, resume, cancel. The web process only changes the rollout's state; workers (started
// by `npm start`, or `npm run worker`) pick running rollouts up within a second.
import { procedureFor } from "@/server/trpc/init";
import {
  cancelRollout,
  pauseRollout,
  resumeRollout,
  startRollout,
} from "@/server/services/rollouts/control-rollout";
import { ZRolloutStateOut } from "./outputs";
import { ZRolloutId } from "./schemas";

const control = procedureFor(["admin", "operator"]).input(ZRolloutId).output(ZRolloutStateOut);

export const startRolloutRoute = control.mutation(({ ctx, input }) =>
  startRollout({ db: ctx.db }, ctx.user, input.rolloutId),
);
export const pauseRolloutRoute = control.mutation(({ ctx, input }) =>
  pauseRollout({ db: ctx.db }, ctx.user, input.rolloutId),
);
export const resumeRolloutRoute = control.mutation(({ ctx, input }) =>
  resumeRollout({ db: ctx.db }, ctx.user, input.rolloutId),
);
export const cancelRolloutRoute = control.mutation(({ ctx, input }) =>
  cancelRollout({ db: ctx.db }, ctx.user, input.rolloutId),
);
