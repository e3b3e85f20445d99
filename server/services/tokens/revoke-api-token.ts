// Revokes one of the caller's API tokens (admins may revoke anyone's). A revoked token is refused
// on its next request.
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { apiTokenSelect, type ApiTokenSummary } from "./token-select";

export async function revokeApiToken({
  db,
  actor,
  tokenId,
}: {
  db: PrismaClient;
  actor: { id: string; roles: string[] };
  tokenId: string;
}): Promise<ApiTokenSummary> {
  return db.$transaction(async (tx) => {
    const row = await tx.apiToken.findUnique({
      where: { id: tokenId },
      select: { userId: true, revokedAt: true, name: true },
    });
    // Someone else's token looks exactly like a missing one, so ids cannot be probed.
    if (!row || (row.userId !== actor.id && !actor.roles.includes("admin")))
      throw new AppError("NOT_FOUND", { message: `no API token with id ${tokenId}` });
    if (row.revokedAt)
      return tx.apiToken.findUniqueOrThrow({ where: { id: tokenId }, select: apiTokenSelect });
    const token = await tx.apiToken.update({
      where: { id: tokenId },
      data: { revokedAt: new Date() },
      select: apiTokenSelect,
    });
    await appendAudit(tx, {
      actorId: actor.id,
      action: "token.revoke",
      target: `token:${tokenId}`,
      detail: { name: row.name },
    });
    return token;
  });
}
