// Parses and validates a policy document once: Cedar text → policies by id with their annotations,
// checked against CEDAR_SCHEMA; windows checked too. Errors are sentences a policy author can act on.
import { createHash } from "node:crypto";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { CEDAR_SCHEMA } from "./cedar-schema";
import { checkWindow } from "./windows";
import type { PolicyDocument, Role } from "./types";

export type ParsedPolicy = {
  id: string;
  effect: "permit" | "forbid";
  text: string;
  reason: string;
  approvals: number;
  approverRole: Role | null;
};
/** `setId` names the policy set preparsed into Cedar's cache (see evaluate-policy.ts). */
export type ParsedPolicySet = {
  policies: Map<string, ParsedPolicy>;
  document: PolicyDocument;
  setId: string;
};

const ROLES: Role[] = ["admin", "operator", "approver", "auditor"];
const cache = new Map<string, ParsedPolicySet>();

function describe(errors: { message: string; help?: string | null }[]): string[] {
  return errors.map((e) => (e.help ? `${e.message} (${e.help})` : e.message));
}

export function parsePolicy(
  doc: PolicyDocument,
): { ok: true; set: ParsedPolicySet } | { ok: false; errors: string[] } {
  const key = JSON.stringify(doc);
  const hit = cache.get(key);
  if (hit) return { ok: true, set: hit };

  const errors: string[] = doc.windows.flatMap(checkWindow);
  const parts = cedar.policySetTextToParts(doc.cedar);
  if (parts.type === "failure") return { ok: false, errors: [...errors, ...describe(parts.errors)] };

  const policies = new Map<string, ParsedPolicy>();
  parts.policies.forEach((text, i) => {
    const json = cedar.policyToJson(text);
    if (json.type === "failure") {
      errors.push(...describe(json.errors));
      return;
    }
    const a = (json.json.annotations ?? {}) as Record<string, string | null>;
    const id = a.id ?? `policy${i}`;
    if (policies.has(id)) errors.push(`two policies share the id "${id}"`);
    const approvals = a.approvals == null ? 0 : Number(a.approvals);
    if (!Number.isInteger(approvals) || approvals < 0 || approvals > 10)
      errors.push(`policy "${id}": @approvals must be a whole number from 0 to 10, not "${a.approvals}"`);
    const role = (a.approver_role ?? null) as Role | null;
    if (role !== null && !ROLES.includes(role))
      errors.push(`policy "${id}": @approver_role must be one of ${ROLES.join(", ")}, not "${role}"`);
    if (approvals > 0 && role === null) errors.push(`policy "${id}": @approvals needs an @approver_role`);
    if (json.json.effect === "forbid" && approvals > 0)
      errors.push(`policy "${id}": a forbid cannot ask for approvals; use a permit with @approvals`);
    policies.set(id, {
      id,
      effect: json.json.effect,
      text,
      reason: a.reason ?? `policy ${id}`,
      approvals,
      approverRole: role,
    });
  });

  const validation = cedar.validate({
    schema: CEDAR_SCHEMA,
    policies: { staticPolicies: Object.fromEntries([...policies].map(([id, p]) => [id, p.text])) },
    validationSettings: { mode: "strict" },
  } as cedar.ValidationCall);
  if (validation.type === "failure") errors.push(...describe(validation.errors));
  else errors.push(...validation.validationErrors.map((v) => `policy "${v.policyId}": ${v.error.message}`));

  if (errors.length > 0) return { ok: false, errors };
  const setId = createHash("sha256").update(key).digest("hex");
  const pre = cedar.preparsePolicySet(setId, {
    staticPolicies: Object.fromEntries([...policies].map(([id, p]) => [id, p.text])),
  });
  if (pre.type === "failure") return { ok: false, errors: describe(pre.errors) };
  const set = { policies, document: doc, setId };
  if (cache.size > 32) cache.clear();
  cache.set(key, set);
  return { ok: true, set };
}
