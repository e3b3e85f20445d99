import type { Prisma } from "@prisma/client";

export const apiTokenSelect = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
} satisfies Prisma.ApiTokenSelect;

export type ApiTokenSummary = Prisma.ApiTokenGetPayload<{ select: typeof apiTokenSelect }>;
