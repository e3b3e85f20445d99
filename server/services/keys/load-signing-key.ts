import type { PrismaClient } from "@prisma/client";
import { parsePrivateKey, type SigningKey } from "@/agent/protocol/keys";
import { AppError } from "@/server/errors";
import type { SecretBox } from "./secret-box";

/** The key the console signs with now: the newest active key that has a private half. */
export async function loadSigningKey({ db, box }: { db: PrismaClient; box: SecretBox }): Promise<SigningKey> {
  const row = await db.signingKey.findFirst({
    where: { status: "active", encryptedPrivateKey: { not: null } },
    orderBy: { createdAt: "desc" },
    select: { keyId: true, encryptedPrivateKey: true },
  });
  if (!row?.encryptedPrivateKey) {
    throw new AppError("PRECONDITION_FAILED", {
      message:
        "the console has no active signing key: create one in Settings → Signing keys or with `keel keys create NAME`",
    });
  }
  const key = parsePrivateKey(box.open(Buffer.from(row.encryptedPrivateKey), row.keyId));
  if (key.keyId !== row.keyId)
    throw new AppError("INTERNAL", {
      message: `signing key ${row.keyId} does not match its stored private key`,
    });
  return key;
}
