import type { Role } from "./_nav";

export const ROLES: readonly { role: Role; help: string }[] = [
  { role: "admin", help: "manage users, everything" },
  { role: "operator", help: "enroll hosts, start rollouts" },
  { role: "approver", help: "approve changes" },
  { role: "auditor", help: "read the audit log" },
];
