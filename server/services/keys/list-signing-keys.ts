import type { Prisma, PrismaClient } from "@prisma/client";
import { formatPublicKey } from "@/agent/protocol/keys";

const select = {
  keyId: true,
  name: true,
  publicKey: true,
  status: true,
  createdAt: true,
  retiredAt: true,
  removedAt: true,
  encryptedPrivateKey: true,
  _count: { select: { releases: true } },
} satisfies Prisma.SigningKeySelect;

/** All keys for Settings and `keel keys list`: public halves only, which one signs, how often used. */
export async function listSigningKeys({ db }: { db: PrismaClient }) {
  const rows = await db.signingKey.findMany({ select, orderBy: { createdAt: "desc" } });
  const signing = rows.find((r) => r.status === "active" && r.encryptedPrivateKey);
  return rows.map((r) => ({
    keyId: r.keyId,
    name: r.name,
    status: r.status,
    publicKeyLine: formatPublicKey(Buffer.from(r.publicKey, "base64"), r.name.replace(/\s+/g, "_")).trim(),
    hasPrivateKey: r.encryptedPrivateKey !== null,
    isSigningKey: r === signing,
    releases: r._count.releases,
    createdAt: r.createdAt,
    retiredAt: r.retiredAt,
    removedAt: r.removedAt,
  }));
}
