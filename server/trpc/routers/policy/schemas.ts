import { z } from "zod";
import { WEEKDAYS } from "@/server/services/policy/windows";

export const ZMaintenanceWindow = z
  .object({
    name: z.string().min(1).max(64),
    environments: z.array(z.string().max(32)).max(50).optional(),
    groups: z.array(z.string().max(100)).max(50).optional(),
    timeZone: z.string().min(1).max(64),
    days: z.array(z.enum(WEEKDAYS)).max(7),
    start: z.string().max(5),
    end: z.string().max(5),
  })
  .strict();
export const ZPolicyDocument = z
  .object({ cedar: z.string().max(100_000), windows: z.array(ZMaintenanceWindow).max(100) })
  .strict();
export const ZProposePolicy = z
  .object({ document: ZPolicyDocument, comment: z.string().max(2000).default("") })
  .strict();
export const ZAnswerPolicy = z
  .object({
    versionId: z.uuid(),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    comment: z.string().max(2000).optional(),
  })
  .strict();
export const ZTestPolicy = z
  .object({
    document: ZPolicyDocument,
    rolloutId: z.uuid(),
    /** Evaluate at this time instead of now (to see what the windows say then). */
    at: z.coerce.date().optional(),
  })
  .strict();
