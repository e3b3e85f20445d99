// Creates an API token for a user. The plaintext is returned here once and never stored.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { appendAudit } from "../audit/append-audit";
import { hashToken, newTokenSecret, tokenDisplayPrefix } from "./token-format";
import { apiTokenSelect, type ApiTokenSummary } from "./token-select";

export async function createApiToken({
  db,
  userId,
  name,
  expiresInDays,
}: {
  db: PrismaClient;
  userId: string;
  name: string;
  expiresInDays?: number;
}): Promise<{ token: string; apiToken: ApiTokenSummary }> {
  const token = newTokenSecret();
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  const apiToken = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: { id: randomUUID(), userId, name: name.trim(), prefix: tokenDisplayPrefix(token), tokenHash: hashToken(token), expiresAt },
      select: apiTokenSelect,
    });
    await appendAudit(tx, {
      actorId: userId,
      action: "token.create",
      target: `token:${row.id}`,
      detail: { name: row.name, prefix: row.prefix, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return row;
  });
  return { token, apiToken };
}
