// What the rollouts mutations answer, declared and checked (`.output()`): the client's types come
// from here, and an answer that drifts from it is a server error, not a surprise in the page.
import { z } from "zod";
import { ROLLOUT_STATES } from "@/server/services/rollouts/types";
import { ZPolicyDecisionOut } from "@/server/trpc/routers/policy/outputs";

export const ZDigest = z.string().regex(/^[0-9a-f]{64}$/);
/** The services read the state from the database as a string; it must be one of the states. */
export const ZState = z.string().pipe(z.enum(ROLLOUT_STATES));
export const ZRolloutStateOut = z.strictObject({ state: ZState });
export const ZCreatedRolloutOut = z.strictObject({
  id: z.uuid(),
  number: z.number().int(),
  state: ZState,
  digest: ZDigest,
  decision: ZPolicyDecisionOut,
});
export const ZReplannedRolloutOut = z.strictObject({
  digest: ZDigest,
  state: ZState,
  decision: ZPolicyDecisionOut,
});
export const ZScheduledOut = z.strictObject({ scheduledStartAt: z.date() });
export const ZUnscheduledOut = z.strictObject({ scheduledStartAt: z.null() });
