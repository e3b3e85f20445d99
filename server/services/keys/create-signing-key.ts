import type { PrismaClient } from "@prisma/client";
import { generateSigningKey } from "@/agent/protocol/keys";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { SecretBox } from "./secret-box";
import { assertKeyName } from "./key-name";

/**
 * Creates an ed25519 signing key on the console. The private half is encrypted at rest and never
 * leaves the console again; the new key is active, so the console signs new releases with it.
 */
export async function createSigningKey(
  deps: { db: PrismaClient; box: SecretBox; actorId: string | null },
  input: { name: string },
) {
  const name = assertKeyName(input.name);
  const g = generateSigningKey();
  const publicKey = g.publicKeyLine.trim().split(/\s+/)[1]!;
  const sealed = deps.box.seal(Buffer.from(g.privateKeyPem, "utf8"), g.keyId);
  return deps.db.$transaction(async (tx) => {
    const row = await tx.signingKey.create({
      data: {
        keyId: g.keyId,
        name,
        publicKey,
        encryptedPrivateKey: new Uint8Array(sealed),
        createdById: deps.actorId,
      },
      select: { keyId: true, name: true, status: true, createdAt: true },
    });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "signing_key.create",
      target: `key:${g.keyId}`,
      detail: { name },
    });
    return { ...row, publicKeyLine: g.publicKeyLine.trim() };
  });
}
