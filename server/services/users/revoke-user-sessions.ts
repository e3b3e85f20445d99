// Ends every browser session of a user. Sessions live only in PostgreSQL (no cookie cache), so
// the user's next request is refused.
import type { PrismaClient } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { findUserOrThrow } from "./find-user";

export async function revokeUserSessions({
  db,
  actorId,
  userId,
}: {
  db: PrismaClient;
  actorId: string;
  userId: string;
}): Promise<{ revoked: number }> {
  return db.$transaction(async (tx) => {
    const user = await findUserOrThrow(tx, userId);
    const { count } = await tx.session.deleteMany({ where: { userId } });
    await appendAudit(tx, {
      actorId,
      action: "session.revoke",
      target: `user:${user.email}`,
      detail: { sessions: count },
    });
    return { revoked: count };
  });
}
