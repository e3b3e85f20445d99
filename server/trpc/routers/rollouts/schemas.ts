import { z } from "zod";
import { ZRolloutSpec } from "@/server/services/rollouts/types";

export { ZRolloutSpec };
export const ZRolloutId = z.object({ rolloutId: z.uuid() }).strict();
export const ZAnswerRollout = z
  .object({
    rolloutId: z.uuid(),
    /** The plan digest the approver reviewed; a changed plan refuses the answer. */
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    comment: z.string().max(2000).optional(),
  })
  .strict();
export const ZReplanRollout = z.object({ rolloutId: z.uuid(), spec: ZRolloutSpec }).strict();
export const ZListRollouts = z
  .object({
    state: z.string().max(40).optional(),
    app: z.string().max(64).optional(),
    page: z.number().int().min(0).max(10_000).default(0),
    pageSize: z.number().int().min(1).max(100).default(25),
  })
  .strict();
/** A start at a given time, or at the next time all of the plan's hosts' windows are open. */
export const ZScheduleRollout = z.union([
  z.object({ rolloutId: z.uuid(), at: z.coerce.date() }).strict(),
  z.object({ rolloutId: z.uuid(), nextWindow: z.literal(true) }).strict(),
]);
