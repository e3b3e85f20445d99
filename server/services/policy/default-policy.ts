// The policy Keel ships with: prod needs two approvers, a canary wave and its maintenance window;
// rolling prod back as an operator needs one approver; dev and staging are free; hosts, keys, users
// are admin business; what the policy keys on (a prod host's environment, labels, groups) changes
// only as a prod change does (two approvers); granting admin or approver needs an approver; editing
// the policy needs one approver. docs/policy.md explains each rule.
import type { PolicyDocument } from "./types";

const cedar = `// Who may ask for what. Annotations: @reason is shown to people; @approvals and
// @approver_role turn a permit into "needs N approvals from role R" (the strictest matching one wins).

@id("operators-change-software")
@reason("operators and admins may install, update, roll back and remove software")
permit (
  principal,
  action in [Keel::Action::"install", Keel::Action::"update", Keel::Action::"rollback", Keel::Action::"remove"],
  resource
) when { principal.roles.contains("operator") || principal.roles.contains("admin") };

@id("prod-two-approvers")
@reason("changes to prod need two approvers")
@approvals("2")
@approver_role("approver")
permit (
  principal,
  action in [Keel::Action::"install", Keel::Action::"update", Keel::Action::"remove"],
  resource
) when {
  (principal.roles.contains("operator") || principal.roles.contains("admin")) &&
  context.environments.contains("prod")
};

@id("prod-rollback-one-approver")
@reason("an operator rolling prod back needs one approver")
@approvals("1")
@approver_role("approver")
permit (principal, action == Keel::Action::"rollback", resource)
when { principal.roles.contains("operator") && context.environments.contains("prod") };

@id("prod-in-window")
@reason("prod is changed only inside its maintenance window")
forbid (
  principal,
  action in [Keel::Action::"install", Keel::Action::"update", Keel::Action::"remove"],
  resource
) when { context.environments.contains("prod") && context.hasWindow && !context.inWindow };

@id("prod-canary")
@reason("a prod rollout starts with a canary wave: one host, or at most 10% of the hosts")
forbid (principal, action in [Keel::Action::"install", Keel::Action::"update"], resource)
when {
  context.environments.contains("prod") && context.hostCount > 1 &&
  !(context.waveCount >= 2 && (context.firstWave == 1 || context.firstWave * 10 <= context.hostCount))
};

@id("admins-manage-hosts-keys-users")
@reason("admins enroll, remove and re-pin hosts and manage keys, users and notifications")
permit (
  principal,
  action in [Keel::Action::"enroll_host", Keel::Action::"remove_host", Keel::Action::"repin_host_key", Keel::Action::"manage_keys", Keel::Action::"manage_users", Keel::Action::"manage_notifications"],
  resource
) when { principal.roles.contains("admin") };

@id("role-grants-need-approval")
@reason("granting admin or approver needs an approver who does not rest on the granter")
@approvals("1")
@approver_role("approver")
permit (principal, action == Keel::Action::"manage_users", resource)
when { principal.roles.contains("admin") && (context.grantRoles.contains("admin") || context.grantRoles.contains("approver")) };

@id("operators-set-host-attributes")
@reason("operators and admins set environments, labels and groups")
permit (
  principal,
  action in [Keel::Action::"set_environment", Keel::Action::"set_labels", Keel::Action::"edit_groups"],
  resource
) when { principal.roles.contains("operator") || principal.roles.contains("admin") };

@id("prod-attributes-two-approvers")
@reason("changing the environment, labels or groups of a prod host needs two approvers, like a prod change")
@approvals("2")
@approver_role("approver")
permit (
  principal,
  action in [Keel::Action::"set_environment", Keel::Action::"set_labels", Keel::Action::"edit_groups"],
  resource
) when { (principal.roles.contains("operator") || principal.roles.contains("admin")) && context.environments.contains("prod") };

@id("everyone-manages-own-tokens")
@reason("everyone may create and revoke API tokens that act with their own roles")
permit (principal, action == Keel::Action::"manage_tokens", resource);

@id("policy-edits-need-approval")
@reason("a policy change needs one approver")
@approvals("1")
@approver_role("approver")
permit (principal, action == Keel::Action::"edit_policy", resource)
when { principal.roles.contains("admin") };
`;

export const DEFAULT_POLICY: PolicyDocument = {
  cedar,
  windows: [
    {
      name: "prod-nights",
      environments: ["prod"],
      timeZone: "UTC",
      days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      start: "22:00",
      end: "06:00",
    },
  ],
};
