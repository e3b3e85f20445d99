// Role provenance: every role a user holds has a grant row (who granted it, who approved the
// grant, how). The two-person rule (server/services/policy/count-independent.ts) reads them.
import type { Prisma, PrismaClient, Role } from "@prisma/client";

type Tx = PrismaClient | Prisma.TransactionClient;

/** How a grant came about: founder = made where Keel is installed (no grantor in Keel). */
export type GrantProvenance =
  | { via: "founder" }
  | { via: "direct"; grantedById: string }
  | { via: "change"; grantedById: string; approvedByIds: string[]; changeRequestId: string };

/** Makes the grant rows match `after`: new roles get a grant with this provenance, dropped ones are revoked. */
export async function recordRoleGrants(
  tx: Tx,
  userId: string,
  before: readonly Role[],
  after: readonly Role[],
  p: GrantProvenance,
  at = new Date(),
) {
  const added = after.filter((r) => !before.includes(r));
  const removed = before.filter((r) => !after.includes(r));
  const by = p.via === "founder" ? null : p.grantedById;
  if (removed.length)
    await tx.roleGrant.updateMany({
      where: { userId, role: { in: removed }, revokedAt: null },
      data: { revokedAt: at, revokedById: by },
    });
  // A role the user holds without a grant row (made before provenance, or by a seed) is revoked
  // and granted again, so that the new grant says who gave it.
  if (added.length)
    await tx.roleGrant.updateMany({
      where: { userId, role: { in: added }, revokedAt: null },
      data: { revokedAt: at, revokedById: by },
    });
  if (added.length)
    await tx.roleGrant.createMany({
      data: added.map((role) => ({
        userId,
        role,
        via: p.via,
        grantedById: by,
        approvedByIds: p.via === "change" ? p.approvedByIds : [],
        changeRequestId: p.via === "change" ? p.changeRequestId : null,
        grantedAt: at,
      })),
    });
  return { added, removed };
}
