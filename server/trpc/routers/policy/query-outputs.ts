// What the policy queries (get, version, changes) and the change-request answers declare
// (`.output()`); proposals and tests are in outputs.ts. A policy document is checked for its two
// parts and passed on as it is.
import { z } from "zod";
import type { PolicyDocument } from "@/server/services/policy/types";

const ZDocumentShape = z.looseObject({
  cedar: z.string(),
  windows: z.array(z.looseObject({ name: z.string() })),
});
const ZPolicyDocument = z.custom<PolicyDocument>((v) => ZDocumentShape.safeParse(v).success, {
  message: "not a policy document",
});
const ZDigest = z.string().regex(/^[0-9a-f]{64}$/);
const ZVersionState = z.enum(["proposed", "active", "superseded", "rejected"]);
const ZCount = z.number().int();

export const ZPolicyOut = z.strictObject({
  active: z.strictObject({ version: ZCount, document: ZPolicyDocument, digest: ZDigest }),
  versions: z.array(
    z.strictObject({
      id: z.uuid(),
      version: ZCount,
      state: z.string().pipe(ZVersionState),
      digest: ZDigest,
      comment: z.string(),
      createdById: z.string().nullable(),
      createdAt: z.date(),
      activatedAt: z.date().nullable(),
      /** As stored (JSON): checked to be a policy document. */
      document: z.unknown().pipe(ZPolicyDocument),
    }),
  ),
});

export const ZPolicyVersionOut = z.strictObject({
  id: z.uuid(),
  version: ZCount,
  state: ZVersionState,
  digest: ZDigest,
  comment: z.string(),
  createdAt: z.date(),
  activatedAt: z.date().nullable(),
  proposedBy: z.strictObject({ name: z.string(), email: z.string() }).nullable(),
  document: ZPolicyDocument,
  active: z.strictObject({ version: ZCount, digest: ZDigest, document: ZPolicyDocument }),
  answers: z.array(
    z.strictObject({
      by: z.string(),
      verdict: z.string(),
      comment: z.string(),
      at: z.date(),
      current: z.boolean(),
    }),
  ),
  canAnswer: z.boolean(),
  cannotAnswerWhy: z.string().nullable(),
});

export const ZChangeRequestsOut = z.array(
  z.strictObject({
    id: z.uuid(),
    number: ZCount,
    kind: z.string(),
    action: z.string(),
    summary: z.string(),
    /** The exact change approvers approve, secrets hidden. */
    input: z.unknown(),
    digest: ZDigest,
    state: z.string(),
    error: z.string().nullable(),
    reasons: z.array(z.string()),
    requiredApprovals: ZCount,
    approverRole: z.string(),
    requester: z.string(),
    createdAt: z.date(),
    finishedAt: z.date().nullable(),
    answers: z.array(
      z.strictObject({ approver: z.string(), verdict: z.string(), comment: z.string(), at: z.date() }),
    ),
    isMine: z.boolean(),
    canAnswer: z.boolean(),
  }),
);

/** An answer to a change request: its state, and what applying it returned or why it failed. */
export const ZChangeAnswerOut = z.strictObject({
  state: z.string(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export const ZChangeCancelledOut = z.strictObject({ state: z.string().pipe(z.literal("cancelled")) });
