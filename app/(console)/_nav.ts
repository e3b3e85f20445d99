// The console's navigation and who may use each section. Roles here only decide how a link
// is shown; every page and procedure checks the viewer's roles on the server again.
import type { Role } from "@/server/auth/roles";

export type { Role };

export interface NavItem {
  href: string;
  label: string;
  /** Empty: every signed-in user. */
  roles: readonly Role[];
}

export const NAV: readonly NavItem[] = [
  { href: "/hosts", label: "Hosts", roles: [] },
  { href: "/apps", label: "Apps", roles: [] },
  { href: "/releases", label: "Releases", roles: [] },
  { href: "/rollouts", label: "Rollouts", roles: [] },
  { href: "/approvals", label: "Approvals", roles: ["admin", "approver"] },
  { href: "/changes", label: "Changes", roles: [] },
  { href: "/policy", label: "Policy", roles: [] },
  { href: "/audit", label: "Audit", roles: ["admin", "auditor"] },
  { href: "/users", label: "Users", roles: ["admin"] },
  { href: "/settings", label: "Settings", roles: [] },
];

export function canUse(item: Pick<NavItem, "roles">, viewerRoles: readonly string[]): boolean {
  return item.roles.length === 0 || item.roles.some((r) => viewerRoles.includes(r));
}
