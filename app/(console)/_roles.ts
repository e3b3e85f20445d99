import type { Role } from "./_nav";

export const ROLES: readonly { role: Role; help: string }[] = [
  { role: "admin", help: "manage users, everything" },
  { role: "operator", help: "enroll hosts, start rollouts" },
  { role: "approver", help: "approve changes" },
  { role: "auditor", help: "read the audit log" },
];

/** Roles in the order above (admin first), whatever order they were stored in. */
export function sortRoles<R extends Role>(roles: readonly R[]): R[] {
  const order = ROLES.map((r) => r.role as Role);
  return [...roles].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}
