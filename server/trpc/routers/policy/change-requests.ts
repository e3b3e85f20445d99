// Change requests: admin actions the policy says need approvals (docs/policy.md).
import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import {
  answerChange,
  cancelChange,
  listChangeRequests,
} from "@/server/services/policy/governed/change-requests";
import { ZChangeAnswerOut, ZChangeCancelledOut, ZChangeRequestsOut } from "./query-outputs";

const ZAnswerChange = z
  .object({
    id: z.uuid(),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    comment: z.string().max(2000).optional(),
  })
  .strict();

export const listChangesRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .output(ZChangeRequestsOut)
  .query(({ ctx }) => listChangeRequests({ db: ctx.db }, ctx.user));

export const approveChangeRoute = procedureFor(["approver", "admin"])
  .input(ZAnswerChange)
  .output(ZChangeAnswerOut)
  .mutation(({ ctx, input }) =>
    answerChange(ctx.services.govern(ctx.db), ctx.user, { ...input, verdict: "approve" }),
  );

export const rejectChangeRoute = procedureFor(["approver", "admin"])
  .input(ZAnswerChange)
  .output(ZChangeAnswerOut)
  .mutation(({ ctx, input }) =>
    answerChange(ctx.services.govern(ctx.db), ctx.user, { ...input, verdict: "reject" }),
  );

export const cancelChangeRoute = procedureFor(["admin", "operator"])
  .input(z.strictObject({ id: z.uuid() }))
  .output(ZChangeCancelledOut)
  .mutation(({ ctx, input }) => cancelChange({ db: ctx.db }, ctx.user, input.id));
