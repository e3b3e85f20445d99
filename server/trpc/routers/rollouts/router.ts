import { router } from "@/server/trpc/init";
import { approveRolloutRoute, rejectRolloutRoute } from "./answer-rollout";
import {
  cancelRolloutRoute,
  pauseRolloutRoute,
  resumeRolloutRoute,
  startRolloutRoute,
} from "./control-rollout";
import { createRolloutRoute } from "./create-rollout";
import { getRolloutRoute } from "./get-rollout";
import { listRolloutsRoute } from "./list-rollouts";
import { pendingApprovalsRoute } from "./pending-approvals";
import { previewRolloutRoute } from "./preview-rollout";
import { replanRolloutRoute } from "./replan-rollout";
import { scheduleRolloutRoute, unscheduleRolloutRoute } from "./schedule-rollout";

export const rolloutsRouter = router({
  list: listRolloutsRoute,
  get: getRolloutRoute,
  preview: previewRolloutRoute,
  create: createRolloutRoute,
  replan: replanRolloutRoute,
  approve: approveRolloutRoute,
  reject: rejectRolloutRoute,
  start: startRolloutRoute,
  pause: pauseRolloutRoute,
  resume: resumeRolloutRoute,
  cancel: cancelRolloutRoute,
  schedule: scheduleRolloutRoute,
  unschedule: unscheduleRolloutRoute,
  pendingApprovals: pendingApprovalsRoute,
});
