import type { PrismaClient } from "@prisma/client";
import { apiTokenSelect, type ApiTokenSummary } from "./token-select";

export function listApiTokens({
  db,
  userId,
}: {
  db: PrismaClient;
  userId: string;
}): Promise<ApiTokenSummary[]> {
  return db.apiToken.findMany({ where: { userId }, orderBy: { createdAt: "desc" }, select: apiTokenSelect });
}
