import type { PrismaClient } from "@prisma/client";
import { userSelect, type UserSummary } from "./user-select";

/** Where each role in force came from (docs/decisions/0015-two-person-rule.md), by e-mail. */
export type RoleOrigin = {
  role: string;
  via: string;
  grantedBy: string | null;
  approvedBy: string[];
  grantedAt: Date;
};
export type UserListItem = UserSummary & {
  activeSessions: number;
  lastSignInAt: Date | null;
  grants: RoleOrigin[];
};

export async function listUsers({ db }: { db: PrismaClient }): Promise<UserListItem[]> {
  const now = new Date();
  const users = await db.user.findMany({
    orderBy: { email: "asc" },
    select: {
      ...userSelect,
      sessions: { select: { createdAt: true, expiresAt: true } },
      roleGrants: {
        where: { revokedAt: null },
        select: { role: true, via: true, grantedById: true, approvedByIds: true, grantedAt: true },
      },
    },
  });
  const email = new Map(users.map((u) => [u.id, u.email]));
  return users.map(({ sessions, roleGrants, ...u }) => ({
    ...u,
    activeSessions: sessions.filter((s) => s.expiresAt > now).length,
    lastSignInAt: sessions.reduce<Date | null>((m, s) => (m && m > s.createdAt ? m : s.createdAt), null),
    grants: roleGrants.map((g) => ({
      role: g.role,
      via: g.via,
      grantedBy: g.grantedById ? (email.get(g.grantedById) ?? g.grantedById) : null,
      approvedBy: g.approvedByIds.map((id) => email.get(id) ?? id),
      grantedAt: g.grantedAt,
    })),
  }));
}
