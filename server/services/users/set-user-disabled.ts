// Disables or re-enables an account. Disabling also ends the user's sessions, so they are out at once
// (API tokens stay, but every request checks the disabled flag, so they stop working too).
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { assertAnotherAdminRemains, findUserOrThrow } from "./find-user";
import { userSelect, type UserSummary } from "./user-select";

export async function setUserDisabled({
  db,
  actorId,
  userId,
  disabled,
}: {
  db: PrismaClient;
  actorId: string;
  userId: string;
  disabled: boolean;
}): Promise<UserSummary> {
  if (disabled && userId === actorId)
    throw new AppError("PRECONDITION_FAILED", { message: "you cannot disable your own account" });
  return db.$transaction(async (tx) => {
    const before = await findUserOrThrow(tx, userId);
    if (disabled && before.roles.includes("admin"))
      await assertAnotherAdminRemains(tx, userId, `disabling ${before.email}`);
    const user = await tx.user.update({ where: { id: userId }, data: { disabled }, select: userSelect });
    const ended = disabled ? (await tx.session.deleteMany({ where: { userId } })).count : 0;
    await appendAudit(tx, {
      actorId,
      action: disabled ? "user.disable" : "user.enable",
      target: `user:${before.email}`,
      detail: disabled ? { sessionsEnded: ended } : {},
    });
    return user;
  });
}
