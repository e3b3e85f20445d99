import type { PrismaClient } from "@prisma/client";
import { userSelect, type UserSummary } from "./user-select";

export type UserListItem = UserSummary & { activeSessions: number; lastSignInAt: Date | null };

export async function listUsers({ db }: { db: PrismaClient }): Promise<UserListItem[]> {
  const now = new Date();
  const users = await db.user.findMany({
    orderBy: { email: "asc" },
    select: { ...userSelect, sessions: { select: { createdAt: true, expiresAt: true } } },
  });
  return users.map(({ sessions, ...u }) => ({
    ...u,
    activeSessions: sessions.filter((s) => s.expiresAt > now).length,
    lastSignInAt: sessions.reduce<Date | null>((m, s) => (m && m > s.createdAt ? m : s.createdAt), null),
  }));
}
