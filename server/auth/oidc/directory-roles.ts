// Directory grants (decision 0020): the roles a user's groups give them, applied at every sign-in
// and re-check. A role held by a directory grant that the groups no longer give is revoked; a role an
// admin granted is left alone (it is not the directory's to take). Directory grants record as
// vouchers who set the provider's settings and who approved them, so the two-person rule
// (server/services/policy/count-independent.ts) sees who made a directory-granted person.
import type { Prisma, Role } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { KEEL_ROLES } from "./role-map";

export type Vouchers = { grantedById: string | null; approvedByIds: string[] };

const sameVouchers = (g: { grantedById: string | null; approvedByIds: string[] }, v: Vouchers) =>
  g.grantedById === v.grantedById &&
  [...g.approvedByIds].sort().join() === [...v.approvedByIds].sort().join();

/** Makes the user's directory grants match `wanted`; returns the user's roles afterwards. */
export async function applyDirectoryRoles(
  tx: Prisma.TransactionClient,
  user: { id: string; email: string },
  wanted: readonly Role[],
  v: Vouchers,
  why: "sign_in" | "recheck" | "provider_gone",
): Promise<{ roles: Role[]; added: Role[]; removed: Role[] }> {
  const now = new Date();
  const active = await tx.roleGrant.findMany({ where: { userId: user.id, revokedAt: null } });
  const added: Role[] = [];
  const removed: Role[] = [];
  for (const g of active) {
    if (g.via !== "directory") continue;
    // Settings changed since the grant: it is made again under the vouchers in force.
    if (!wanted.includes(g.role) || !sameVouchers(g, v)) {
      await tx.roleGrant.update({
        where: { id: g.id },
        data: { revokedAt: now, revokedById: v.grantedById },
      });
      if (!wanted.includes(g.role)) removed.push(g.role);
    }
  }
  const held = new Set(
    (
      await tx.roleGrant.findMany({ where: { userId: user.id, revokedAt: null }, select: { role: true } })
    ).map((g) => g.role),
  );
  for (const role of wanted) {
    if (held.has(role)) continue;
    await tx.roleGrant.create({
      data: {
        userId: user.id,
        role,
        via: "directory",
        grantedById: v.grantedById,
        approvedByIds: v.approvedByIds,
        grantedAt: now,
      },
    });
    held.add(role);
    if (!active.some((g) => g.role === role)) added.push(role);
  }
  const roles = KEEL_ROLES.filter((r) => held.has(r));
  await tx.user.update({ where: { id: user.id }, data: { roles } });
  if (added.length || removed.length)
    await appendAudit(tx, {
      actorId: null,
      action: "user.directory_roles",
      target: `user:${user.email}`,
      detail: {
        added,
        removed,
        roles,
        why,
        vouchers: { grantedBy: v.grantedById, approvedBy: v.approvedByIds },
      },
    });
  return { roles, added, removed };
}
