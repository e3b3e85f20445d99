import type { PrismaClient, Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { userSelect, type UserSummary } from "./user-select";

type Tx = PrismaClient | Prisma.TransactionClient;

export async function findUserOrThrow(db: Tx, userId: string): Promise<UserSummary> {
  const user = await db.user.findUnique({ where: { id: userId }, select: userSelect });
  if (!user) throw new AppError("NOT_FOUND", { message: `no user with id ${userId}` });
  return user;
}

/** Refuses a change that would leave no enabled admin, so the console can always be administered. */
export async function assertAnotherAdminRemains(db: Tx, userId: string, what: string): Promise<void> {
  const others = await db.user.count({
    where: { id: { not: userId }, disabled: false, roles: { has: "admin" } },
  });
  if (others === 0)
    throw new AppError("PRECONDITION_FAILED", {
      message: `${what} would leave no enabled admin; make another user admin first`,
    });
}
