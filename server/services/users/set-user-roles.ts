import type { PrismaClient, Role } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { recordRoleGrants, type GrantProvenance } from "./role-grants";
import { assertAnotherAdminRemains, findUserOrThrow } from "./find-user";
import { userSelect, type UserSummary } from "./user-select";

export async function setUserRoles({
  db,
  actorId,
  userId,
  roles,
  provenance,
}: {
  db: PrismaClient;
  actorId: string;
  userId: string;
  roles: Role[];
  provenance?: GrantProvenance;
}): Promise<UserSummary> {
  const next = [...new Set(roles)].sort();
  return db.$transaction(async (tx) => {
    // Roles and their grants change in one transaction; the row lock orders concurrent edits.
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId} FOR UPDATE`;
    const before = await findUserOrThrow(tx, userId);
    if (before.roles.includes("admin") && !next.includes("admin") && !before.disabled)
      await assertAnotherAdminRemains(tx, userId, `removing admin from ${before.email}`);
    const user = await tx.user.update({ where: { id: userId }, data: { roles: next }, select: userSelect });
    await recordRoleGrants(
      tx,
      userId,
      before.roles,
      next,
      provenance ?? { via: "direct", grantedById: actorId },
    );
    await appendAudit(tx, {
      actorId,
      action: "user.roles",
      target: `user:${before.email}`,
      detail: {
        from: [...before.roles].sort(),
        to: next,
        ...(provenance?.via === "change" ? { approvedBy: provenance.approvedByIds } : {}),
      },
    });
    return user;
  });
}
