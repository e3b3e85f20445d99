import type { PrismaClient } from "@prisma/client";
import { parsePublicKey } from "@/agent/protocol/keys";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { assertKeyName } from "./key-name";

/**
 * Trusts the public key of a signer outside the console (a build machine running `keel-agent
 * build`), so that releases it signs can be pushed. The console cannot sign with such a key.
 */
export async function importPublicKey(
  deps: { db: PrismaClient; actorId: string | null },
  input: { name: string; publicKey: string },
) {
  const name = assertKeyName(input.name);
  let parsed;
  try {
    parsed = parsePublicKey(input.publicKey);
  } catch (e) {
    throw new AppError("BAD_REQUEST", { message: `not an ed25519 public key: ${(e as Error).message}` });
  }
  const existing = await deps.db.signingKey.findUnique({
    where: { keyId: parsed.keyId },
    select: { status: true },
  });
  if (existing)
    throw new AppError("CONFLICT", { message: `key ${parsed.keyId} is already known (${existing.status})` });
  return deps.db.$transaction(async (tx) => {
    const row = await tx.signingKey.create({
      data: {
        keyId: parsed.keyId,
        name,
        publicKey: parsed.raw.toString("base64"),
        createdById: deps.actorId,
      },
      select: { keyId: true, name: true, status: true, createdAt: true },
    });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "signing_key.import",
      target: `key:${parsed.keyId}`,
      detail: { name },
    });
    return row;
  });
}
