// Actions added to Keel after a policy was written. A stored policy that never mentions such an
// action is asked about the older action it was split from instead, so an upgrade keeps what the
// policy's author allowed (admins manage keys → admins manage notifications) and adds no gap.
import type { PolicyAction, PolicyDecision, PolicyDocument } from "./types";

const SPLIT_FROM: Partial<Record<PolicyAction, PolicyAction>> = { manage_notifications: "manage_keys" };

export function effectiveAction(doc: PolicyDocument, action: PolicyAction): PolicyAction {
  const older = SPLIT_FROM[action];
  return older && !doc.cedar.includes(`"${action}"`) ? older : action;
}

/** Says why the answer is about another action. */
export function withLegacyNote(d: PolicyDecision, action: PolicyAction, asked: PolicyAction): PolicyDecision {
  const note = `the policy in force does not mention ${action}, so it was asked about ${asked}`;
  return { ...d, reasons: [...d.reasons, note] } as PolicyDecision;
}
