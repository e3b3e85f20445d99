import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";

/**
 * Retires a key: the console no longer signs with it and refuses new pushes signed by it, but it
 * stays trusted for releases already signed with it (hosts keep it in /etc/keel/trusted.d).
 * With `remove`, the key is trusted nowhere any more (releases signed with it can no longer be
 * installed); a key that still signs a release cannot be removed.
 */
export async function retireSigningKey(
  deps: { db: PrismaClient; actorId: string | null },
  input: { keyId: string; remove?: boolean },
) {
  return deps.db.$transaction(async (tx) => {
    const key = await tx.signingKey.findUnique({ where: { keyId: input.keyId }, select: { status: true } });
    if (!key) throw new AppError("NOT_FOUND", { message: `no signing key ${input.keyId}` });
    const status = input.remove ? "removed" : "retired";
    if (key.status === status) return { keyId: input.keyId, status, changed: false };
    if (key.status === "removed")
      throw new AppError("CONFLICT", {
        message: `key ${input.keyId} was removed; it cannot be retired again`,
      });
    if (input.remove) {
      const uses = await tx.release.count({ where: { signerKeyId: input.keyId } });
      if (uses > 0) {
        throw new AppError("CONFLICT", {
          message: `key ${input.keyId} signs ${uses} release(s); delete them before removing the key, or only retire it`,
        });
      }
    }
    const now = new Date();
    await tx.signingKey.update({
      where: { keyId: input.keyId },
      data: input.remove ? { status, removedAt: now, encryptedPrivateKey: null } : { status, retiredAt: now },
    });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: input.remove ? "signing_key.remove" : "signing_key.retire",
      target: `key:${input.keyId}`,
    });
    return { keyId: input.keyId, status, changed: true };
  });
}
