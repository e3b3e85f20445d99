import { z } from "zod";

export const ZListAuditRequest = z.strictObject({
  actor: z.string().trim().max(254).optional(),
  action: z
    .string()
    .regex(/^[a-z][a-z0-9_.]{0,63}$/, "an action like user.create, or a prefix like user.")
    .optional(),
  target: z.string().trim().max(300).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export const ZAuditEvent = z.object({
  id: z.string(),
  at: z.date(),
  actorId: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export const ZListAuditResponse = z.object({
  items: z.array(ZAuditEvent),
  nextCursor: z.string().nullable(),
});

const ZCheckpointSummary = z.object({
  count: z.number().int(),
  newest: z.object({ seq: z.number().int(), at: z.date(), rows: z.number().int() }).nullable(),
});

export const ZVerifyAuditResponse = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    rows: z.number().int(),
    headHash: z.string(),
    checkpoints: ZCheckpointSummary,
  }),
  z.object({
    ok: z.literal(false),
    rows: z.number().int(),
    kind: z.enum(["chain", "rewrite", "truncation", "checkpoints"]),
    message: z.string(),
    brokenAt: z.object({ id: z.string(), action: z.string(), at: z.date(), reason: z.string() }).nullable(),
    checkpoints: ZCheckpointSummary,
  }),
]);
