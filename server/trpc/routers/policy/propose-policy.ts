import { procedureFor } from "@/server/trpc/init";
import { answerPolicy, proposePolicy } from "@/server/services/policy/propose-policy";
import { ZAnsweredPolicyOut, ZProposedPolicyOut } from "./outputs";
import { ZAnswerPolicy, ZProposePolicy } from "./schemas";

export const proposePolicyRoute = procedureFor(["admin"])
  .input(ZProposePolicy)
  .output(ZProposedPolicyOut)
  .mutation(({ ctx, input }) => proposePolicy({ db: ctx.db }, ctx.user, input.document, input.comment));

export const approvePolicyRoute = procedureFor(["approver", "admin"])
  .input(ZAnswerPolicy)
  .output(ZAnsweredPolicyOut)
  .mutation(({ ctx, input }) => answerPolicy({ db: ctx.db }, ctx.user, { ...input, verdict: "approve" }));

export const rejectPolicyRoute = procedureFor(["approver", "admin"])
  .input(ZAnswerPolicy)
  .output(ZAnsweredPolicyOut)
  .mutation(({ ctx, input }) => answerPolicy({ db: ctx.db }, ctx.user, { ...input, verdict: "reject" }));
