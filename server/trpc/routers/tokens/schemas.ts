import { z } from "zod";

export const ZApiToken = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});

export const ZCreateTokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

/** `token` is the only time the secret is ever shown. */
export const ZCreateTokenResponse = z.object({ token: z.string(), apiToken: ZApiToken });

export const ZRevokeTokenRequest = z.strictObject({ tokenId: z.uuid() });
