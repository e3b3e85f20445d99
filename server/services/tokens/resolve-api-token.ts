// Finds the user behind an API token presented as `Authorization: Bearer keel_…`. Refuses
// revoked or expired tokens and disabled users; records when the token was last used
// (at most once a minute, so busy scripts do not write on every call).
import type { PrismaClient } from "@prisma/client";
import { hashToken, isTokenShaped } from "./token-format";

const TOUCH_EVERY_MS = 60_000;

export type TokenOwner = {
  tokenId: string;
  user: { id: string; email: string; name: string; roles: ("admin" | "operator" | "approver" | "auditor")[] };
};

export async function resolveApiToken({
  db,
  token,
}: {
  db: PrismaClient;
  token: string;
}): Promise<TokenOwner | null> {
  if (!isTokenShaped(token)) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: {
      id: true,
      revokedAt: true,
      expiresAt: true,
      lastUsedAt: true,
      user: { select: { id: true, email: true, name: true, roles: true, disabled: true } },
    },
  });
  const now = new Date();
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now) || row.user.disabled) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS)
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  const { disabled: _disabled, ...user } = row.user;
  return { tokenId: row.id, user };
}
