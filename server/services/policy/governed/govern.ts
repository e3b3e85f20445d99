// The policy gate of every admin action (docs/policy.md). The policy in force answers allow, deny
// or "needs N approvals from role R" on the change as it touches things now: allow applies it;
// deny refuses it with the policy's reasons and audits the refusal; needs-approval stores it as a
// change request bound to the digest of the exact change, which applies when other people —
// independent of the requester (docs/decisions/0015-two-person-rule.md) — approve it.
import { createHash } from "node:crypto";
import type { Prisma } from "@prisma/client";
import { canonicalJson } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { evaluatePolicy } from "@/server/services/policy/evaluate-policy";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import type { PolicyAction, PolicyDecision, Role } from "@/server/services/policy/types";
import { adminOps } from "./admin-ops";
import { hostOps } from "./host-ops";
import { oidcOps } from "./oidc-ops";
import { notificationOps } from "@/server/services/notifications/notification-ops";
import { effectiveAction, withLegacyNote } from "@/server/services/policy/legacy-actions";
import type { Described, GovernActor, GovernDeps, GovernedOp } from "./types";

export const OPS = { ...hostOps, ...adminOps, ...oidcOps, ...notificationOps };
export type GovernedKind = keyof typeof OPS;
/* eslint-disable @typescript-eslint/no-explicit-any */
type InputOf<K extends GovernedKind> = (typeof OPS)[K] extends GovernedOp<infer I, any> ? I : never;
type OutputOf<K extends GovernedKind> = (typeof OPS)[K] extends GovernedOp<any, infer O> ? O : never;
export const opOf = (kind: string): GovernedOp<any, any> | undefined =>
  (OPS as Record<string, GovernedOp<any, any>>)[kind];
/* eslint-enable @typescript-eslint/no-explicit-any */

export function changeDigest(kind: string, input: unknown): string {
  return createHash("sha256").update(canonicalJson({ kind, input })).digest("hex");
}

/** Asks the policy in force about an action by `actor`, as described now. */
export async function decide(
  deps: GovernDeps,
  actor: GovernActor,
  action: PolicyAction,
  d: Described,
): Promise<PolicyDecision> {
  const active = await getActivePolicy({ db: deps.db });
  const asked = effectiveAction(active.document, action);
  const decision = evaluatePolicy(active.document, {
    actor: { id: actor.id, roles: actor.roles as Role[] },
    action: asked,
    hosts: d.hosts,
    grantRoles: d.grantRoles,
    at: new Date(),
  });
  return asked === action ? decision : withLegacyNote(decision, action, asked);
}

async function refuse(
  deps: GovernDeps,
  actor: GovernActor,
  kind: string,
  d: Described,
  reasons: string[],
): Promise<never> {
  await appendAudit(deps.db, {
    actorId: actor.id,
    action: "change.denied",
    target: kind,
    detail: { summary: d.summary, reasons },
  });
  throw new AppError("POLICY_DENIED", {
    message: `The policy refuses to ${d.summary}: ${reasons.join("; ")}.`,
    details: { reasons },
  });
}

/** For actions that cannot wait for approvers (API tokens): allowed now, or refused and audited. */
export async function enforcePolicy(
  deps: GovernDeps,
  actor: GovernActor,
  action: PolicyAction,
  d: Described,
): Promise<void> {
  const decision = await decide(deps, actor, action, d);
  if (decision.effect === "deny") return refuse(deps, actor, action, d, decision.reasons);
  if (decision.effect === "needs_approval")
    return refuse(deps, actor, action, d, [
      ...decision.reasons,
      `this cannot wait for approval: its result is shown once, to whoever makes it`,
    ]);
}

/** Runs a governed action for `actor`: applied, refused, or turned into a change request. */
export async function governed<K extends GovernedKind>(
  deps: GovernDeps,
  actor: GovernActor,
  kind: K,
  input: InputOf<K>,
): Promise<OutputOf<K>> {
  const o = opOf(kind)!;
  const d = await o.describe(deps.db, input);
  const decision = await decide(deps, actor, o.action, d);
  if (decision.effect === "deny") return refuse(deps, actor, kind, d, decision.reasons);
  if (decision.effect === "allow") return o.apply(deps, actor, input, null) as Promise<OutputOf<K>>;
  const blocked = o.notApprovable?.(input);
  if (blocked) return refuse(deps, actor, kind, d, [...decision.reasons, blocked]);
  const { stored, once } = o.prepare ? await o.prepare(input) : { stored: input, once: undefined };
  const digest = changeDigest(kind, stored);
  const cr = await deps.db.$transaction(async (tx) => {
    const row = await tx.changeRequest.create({
      data: {
        kind,
        action: o.action,
        input: stored as Prisma.InputJsonValue,
        summary: d.summary,
        digest,
        decision: decision as unknown as Prisma.InputJsonValue,
        requiredApprovals: decision.approvals,
        approverRole: decision.approverRole,
        createdById: actor.id,
      },
      select: { id: true, number: true },
    });
    await appendAudit(tx, {
      actorId: actor.id,
      action: "change.request",
      target: `change:${row.number}`,
      detail: { kind, summary: d.summary, digest, reasons: decision.reasons },
    });
    return row;
  });
  throw new AppError("APPROVAL_REQUIRED", {
    message: `To ${d.summary} needs ${decision.approvals} approval(s) from ${decision.approverRole} (${decision.reasons.join("; ")}). Change request ${cr.number} waits for them; it is applied when approved.`,
    details: {
      changeRequest: { id: cr.id, number: cr.number, digest },
      reasons: decision.reasons,
      ...(once ? { once } : {}),
    },
  });
}
