// Policy rules that tests in more than one place add to the default policy.

/** A health check signed to run as root needs one approver (install and update by operators). */
export const ROOT_CHECKS_NEED_APPROVAL = `
@id("root-checks-need-approval")
@reason("a health check that runs as root needs an approver")
@approvals("1")
@approver_role("approver")
permit (principal, action in [Keel::Action::"install", Keel::Action::"update"], resource)
when { principal.roles.contains("operator") && context.runsAsRoot };
`;
