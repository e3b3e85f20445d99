// Creates an API token for a user. The plaintext is returned here once and never stored.
// Only a signed-in browser session (the user's password) mints tokens: a caller holding a token
// may not mint another, so no token outlives or out-scopes the credential that made it (a token
// expiring tomorrow could otherwise mint one that never expires and survives its revocation).
// docs/decisions/0001-auth.md.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { hashToken, newTokenSecret, tokenDisplayPrefix } from "./token-format";
import { apiTokenSelect, type ApiTokenSummary } from "./token-select";

export async function createApiToken({
  db,
  userId,
  name,
  expiresInDays,
  via,
}: {
  db: PrismaClient;
  userId: string;
  name: string;
  expiresInDays?: number;
  /** How the caller proved who they are (the API passes it; "token" is refused). */
  via?: "session" | "token" | null;
}): Promise<{ token: string; apiToken: ApiTokenSummary }> {
  if (via === "token")
    throw new AppError("FORBIDDEN", {
      message:
        "API tokens can only be created from a signed-in console session, not with another API token (a token cannot outlive or widen the one that made it). Sign in to the console and create it under your account.",
    });
  const token = newTokenSecret();
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  const apiToken = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        id: randomUUID(),
        userId,
        name: name.trim(),
        prefix: tokenDisplayPrefix(token),
        tokenHash: hashToken(token),
        expiresAt,
      },
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
