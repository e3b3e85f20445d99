// The Cedar schema every Keel policy is validated against. The request's facts travel in the
// context; principals are users with their roles.
export const CEDAR_SCHEMA = `
namespace Keel {
  entity User = { roles: Set<String> };
  entity Target;
  type ChangeContext = {
    app: String,
    releaseKind: String,
    environments: Set<String>,
    groups: Set<String>,
    labels: Set<String>,
    hostCount: Long,
    waveCount: Long,
    firstWave: Long,
    hasWindow: Bool,
    inWindow: Bool,
    runsAsRoot: Bool,
  };
  action install, update, rollback, remove, enroll_host, remove_host, edit_policy, manage_keys, manage_users
    appliesTo { principal: User, resource: Target, context: ChangeContext };
}
`;
