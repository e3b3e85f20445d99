import { procedureFor } from "@/server/trpc/init";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { ZRolloutStateOut } from "./outputs";
import { ZAnswerRollout } from "./schemas";

export const approveRolloutRoute = procedureFor(["approver"])
  .input(ZAnswerRollout)
  .output(ZRolloutStateOut)
  .mutation(({ ctx, input }) => answerRollout({ db: ctx.db }, ctx.user, { ...input, verdict: "approve" }));

export const rejectRolloutRoute = procedureFor(["approver"])
  .input(ZAnswerRollout)
  .output(ZRolloutStateOut)
  .mutation(({ ctx, input }) => answerRollout({ db: ctx.db }, ctx.user, { ...input, verdict: "reject" }));
