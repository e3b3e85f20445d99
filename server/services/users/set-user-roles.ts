import type { PrismaClient, Role } from "@prisma/client";
import { appendAudit } from "../audit/append-audit";
import { assertAnotherAdminRemains, findUserOrThrow } from "./find-user";
import { userSelect, type UserSummary } from "./user-select";

export async function setUserRoles({
  db,
  actorId,
  userId,
  roles,
}: {
  db: PrismaClient;
  actorId: string;
  userId: string;
  roles: Role[];
}): Promise<UserSummary> {
  const next = [...new Set(roles)].sort();
  return db.$transaction(async (tx) => {
    const before = await findUserOrThrow(tx, userId);
    if (before.roles.includes("admin") && !next.includes("admin") && !before.disabled)
      await assertAnotherAdminRemains(tx, userId, `removing admin from ${before.email}`);
    const user = await tx.user.update({ where: { id: userId }, data: { roles: next }, select: userSelect });
    await appendAudit(tx, {
      actorId,
      action: "user.roles",
      target: `user:${before.email}`,
      detail: { from: [...before.roles].sort(), to: next },
    });
    return user;
  });
}
