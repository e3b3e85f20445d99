import type { PrismaClient } from "@prisma/client";
import { formatPublicKey, parsePublicKey, type PublicKeyInfo } from "@/agent/protocol/keys";

export type TrustedPublicKey = {
  keyId: string;
  /** `keel-ed25519 <base64>` — the content of /etc/keel/trusted.d/<keyId>.pub. */
  publicKeyLine: string;
  fileName: string;
  status: "active" | "retired";
};

/**
 * The keys hosts must trust: active and retired ones (a retired key still signs releases hosts
 * may install). Enrollment installs each as /etc/keel/trusted.d/<fileName>.
 */
export async function listTrustedPublicKeys({ db }: { db: PrismaClient }): Promise<TrustedPublicKey[]> {
  const rows = await db.signingKey.findMany({
    where: { status: { in: ["active", "retired"] } },
    select: { keyId: true, publicKey: true, status: true },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((r) => ({
    keyId: r.keyId,
    publicKeyLine: formatPublicKey(Buffer.from(r.publicKey, "base64")),
    fileName: `${r.keyId}.pub`,
    status: r.status as "active" | "retired",
  }));
}

/** Keys a pushed release may be signed by (active only: retired keys sign no new releases). */
export async function listKeysAcceptedForPush({ db }: { db: PrismaClient }): Promise<PublicKeyInfo[]> {
  const rows = await db.signingKey.findMany({ where: { status: "active" }, select: { publicKey: true } });
  return rows.map((r) => parsePublicKey(formatPublicKey(Buffer.from(r.publicKey, "base64"))));
}
