// Evaluates one change request against a policy: Cedar decides permit/forbid, the strictest matching
// permit's @approvals/@approver_role turn an allow into "needs N approvals from role R", and every
// answer carries the reasons (the @reason of each policy that decided it).
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { CEDAR_SCHEMA } from "./cedar-schema";
import { parsePolicy } from "./parse-policy";
import { windowsFor, windowState, type MaintenanceWindow } from "./windows";
import type { PolicyDecision, PolicyDocument, PolicyRequest } from "./types";

export class PolicyError extends Error {}

// Cedar keeps preparsed schemas and policy sets in the wasm module; parsing them once per process
// instead of once per request makes an evaluation take well under a millisecond.
const SCHEMA_ID = "keel-v1";
let schemaReady = false;
function ensureSchema() {
  if (schemaReady) return;
  const r = cedar.preparseSchema(SCHEMA_ID, CEDAR_SCHEMA);
  if (r.type === "failure")
    throw new PolicyError(`Keel's Cedar schema does not parse: ${r.errors[0]?.message}`);
  schemaReady = true;
}

/** The maintenance windows that bind at least one of the request's hosts (shown with a plan). */
export function bindingWindows(req: Pick<PolicyRequest, "hosts">, doc: PolicyDocument): MaintenanceWindow[] {
  const names = new Set<string>();
  for (const h of req.hosts)
    for (const w of windowsFor({ environment: h.environment, groups: h.groups }, doc.windows))
      names.add(w.name);
  return doc.windows.filter((w) => names.has(w.name));
}

export function policyContext(req: PolicyRequest, doc: PolicyDocument) {
  const waves = req.waves && req.waves.length > 0 ? req.waves : [req.hosts.length];
  const win = windowState(
    req.hosts.map((h) => ({ environment: h.environment, groups: h.groups })),
    doc.windows,
    req.at,
  );
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    context: {
      app: req.app ?? "",
      releaseKind: req.releaseKind ?? "",
      kind: req.releaseKind ?? "",
      runtimes: uniq(req.runtimes ?? []),
      environments: uniq(req.hosts.flatMap((h) => (h.environment ? [h.environment] : []))),
      groups: uniq(req.hosts.flatMap((h) => h.groups)),
      labels: uniq(req.hosts.flatMap((h) => Object.entries(h.labels).map(([k, v]) => `${k}=${v}`))),
      hostCount: req.hosts.length,
      waveCount: waves.length,
      firstWave: waves[0] ?? 0,
      hasWindow: win.bound,
      inWindow: req.assumeWindowsOpen ? true : win.open,
      runsAsRoot: req.runsAsRoot ?? false,
      rootHook: req.rootHook ?? false,
      grantRoles: uniq(req.grantRoles ?? []),
    },
    closedWindows: req.assumeWindowsOpen ? [] : win.closed,
  };
}

export function evaluatePolicy(doc: PolicyDocument, req: PolicyRequest): PolicyDecision {
  const parsed = parsePolicy(doc);
  if (!parsed.ok) throw new PolicyError(`the policy is invalid: ${parsed.errors.join("; ")}`);
  const { policies } = parsed.set;
  const { context, closedWindows } = policyContext(req, doc);

  ensureSchema();
  const answer = cedar.statefulIsAuthorized({
    principal: { type: "Keel::User", id: req.actor.id },
    action: { type: "Keel::Action", id: req.action },
    resource: { type: "Keel::Target", id: "request" },
    context,
    preparsedSchemaName: SCHEMA_ID,
    validateRequest: true,
    preparsedPolicySetId: parsed.set.setId,
    entities: [
      { uid: { type: "Keel::User", id: req.actor.id }, attrs: { roles: [...req.actor.roles] }, parents: [] },
    ],
  });
  if (answer.type === "failure") throw new PolicyError(answer.errors.map((e) => e.message).join("; "));
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0)
    throw new PolicyError(
      diagnostics.errors.map((e) => `policy "${e.policyId}": ${e.error.message}`).join("; "),
    );

  const matched = diagnostics.reason.map((id) => policies.get(id)!).filter(Boolean);
  const ids = matched.map((p) => p.id);
  if (decision === "deny") {
    if (matched.length === 0)
      return {
        effect: "deny",
        reasons: [
          `no policy allows ${req.action.replaceAll("_", " ")} for your roles (${req.actor.roles.join(", ") || "none"})`,
        ],
        policies: [],
      };
    const reasons = matched.map((p) =>
      p.id === "prod-in-window" && closedWindows.length > 0
        ? `${p.reason} (closed now: ${closedWindows.join(", ")})`
        : p.reason,
    );
    return { effect: "deny", reasons, policies: ids };
  }
  const strictest = matched.reduce((a, p) => (p.approvals > a.approvals ? p : a), matched[0]!);
  if (strictest.approvals > 0 && strictest.approverRole)
    return {
      effect: "needs_approval",
      approvals: strictest.approvals,
      approverRole: strictest.approverRole,
      reasons: matched.filter((p) => p.approvals > 0).map((p) => p.reason),
      policies: ids,
    };
  return { effect: "allow", reasons: matched.map((p) => p.reason), policies: ids };
}
