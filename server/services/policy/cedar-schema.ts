// The Cedar schema every Keel policy is validated against. The request's facts travel in the
// context; principals are users with their roles. For admin actions the hosts are the hosts the
// change touches, as they are now (a host moved out of prod is a prod host for the move), and
// grantRoles the roles a user change grants. docs/policy.md lists what each action covers.
export const CEDAR_SCHEMA = `
namespace Keel {
  entity User = { roles: Set<String> };
  entity Target;
  type ChangeContext = {
    app: String,
    releaseKind: String,
    kind: String,
    runtimes: Set<String>,
    environments: Set<String>,
    groups: Set<String>,
    labels: Set<String>,
    hostCount: Long,
    waveCount: Long,
    firstWave: Long,
    hasWindow: Bool,
    inWindow: Bool,
    runsAsRoot: Bool,
    rootHook: Bool,
    grantRoles: Set<String>,
  };
  action install, update, rollback, remove, enroll_host, remove_host, edit_policy, manage_keys, manage_users,
    set_environment, set_labels, edit_groups, repin_host_key, manage_tokens, manage_notifications
    appliesTo { principal: User, resource: Target, context: ChangeContext };
}
`;
