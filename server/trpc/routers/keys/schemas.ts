import { z } from "zod";

export const ZKeyId = z.string().regex(/^[0-9a-f]{16}$/, "a key id is 16 hex digits");
export const ZKeyName = z.string().trim().min(1).max(64);

export const ZSigningKey = z.object({
  keyId: z.string(),
  name: z.string(),
  status: z.enum(["active", "retired", "removed"]),
  publicKeyLine: z.string(),
  hasPrivateKey: z.boolean(),
  isSigningKey: z.boolean(),
  releases: z.number(),
  createdAt: z.date(),
  retiredAt: z.date().nullable(),
  removedAt: z.date().nullable(),
});

export const ZCreateKeyRequest = z.strictObject({ name: ZKeyName });
export const ZCreateKeyResponse = z.object({
  keyId: z.string(),
  name: z.string(),
  publicKeyLine: z.string(),
});
export const ZImportKeyRequest = z.strictObject({ name: ZKeyName, publicKey: z.string().max(4096) });
export const ZImportKeyResponse = z.object({ keyId: z.string(), name: z.string() });
export const ZRetireKeyRequest = z.strictObject({ keyId: ZKeyId, remove: z.boolean().optional() });
export const ZRetireKeyResponse = z.object({ keyId: z.string(), status: z.string(), changed: z.boolean() });
