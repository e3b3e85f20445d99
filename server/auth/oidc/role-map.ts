// Groups → roles (decision 0020): which Keel roles the provider's groups grant. Written as
// "group:role+role,group:role" in KEEL_OIDC_ROLE_MAP and Settings; stored as [{ group, roles }].
import type { Role } from "@prisma/client";
import { AppError } from "@/server/errors";

export const KEEL_ROLES: readonly Role[] = ["admin", "operator", "approver", "auditor"];
export type RoleMapEntry = { group: string; roles: Role[] };

/** Parses "keel-admins:admin,keel-ops:operator+approver"; a bad entry is named in the error. */
export function parseRoleMap(text: string): RoleMapEntry[] {
  const out: RoleMapEntry[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const item = raw.trim();
    if (!item) continue;
    const at = item.lastIndexOf(":");
    const group = at > 0 ? item.slice(0, at).trim() : "";
    const roles =
      at > 0
        ? item
            .slice(at + 1)
            .split("+")
            .map((r) => r.trim())
        : [];
    const bad = roles.find((r) => !KEEL_ROLES.includes(r as Role));
    if (!group || roles.length === 0 || bad !== undefined)
      throw new AppError("BAD_REQUEST", {
        message: `role mapping "${item}": write group:role+role with roles among ${KEEL_ROLES.join(", ")}${bad !== undefined ? ` ("${bad}" is not one)` : ""}`,
      });
    out.push({ group, roles: [...new Set(roles as Role[])] });
  }
  return out;
}

export function formatRoleMap(map: readonly RoleMapEntry[]): string {
  return map.map((e) => `${e.group}:${e.roles.join("+")}`).join(",");
}

/** Every role the mapping can grant (what the policy sees as granted when the mapping changes). */
export function mappedRoles(map: readonly RoleMapEntry[]): Role[] {
  return KEEL_ROLES.filter((r) => map.some((e) => e.roles.includes(r)));
}

/** The roles a user with these groups gets. */
export function rolesForGroups(groups: readonly string[], map: readonly RoleMapEntry[]): Role[] {
  return KEEL_ROLES.filter((r) => map.some((e) => e.roles.includes(r) && groups.includes(e.group)));
}

/** The groups in a claim set: an array of strings, or one string; anything else is no groups. */
export function groupsOf(claims: Record<string, unknown>, claim: string): string[] {
  const v = claims[claim];
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === "string") : [];
}
