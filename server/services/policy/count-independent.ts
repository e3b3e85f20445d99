// The two-person rule (docs/decisions/0015-two-person-rule.md). Every role grant rests on the
// people who vouched for it: its grantor and the approvers of the grant. An account is *controlled*
// by R when R alone could have produced it as it is: it is R, or every voucher of one of its grants
// is controlled by R. Founders' and legacy grants rest on nobody. An approval counts only when
//  - the approver holds the required role by a grant in force that predates the request,
//  - no single account controls both the requester and the approver, and
//  - no single account controls both this approver and an approver counted before it,
// so one account alone — however many accounts it creates, roles it grants or policies it edits —
// never turns into a requester and its approvers.
import type { Prisma, PrismaClient } from "@prisma/client";

type Tx = PrismaClient | Prisma.TransactionClient;

type Grant = {
  userId: string;
  role: string;
  grantedById: string | null;
  approvedByIds: string[];
  grantedAt: Date;
  revokedAt: Date | null;
};

/** Who controls each account: the least fixed point of C(u) = {u} ∪ ⋃_grants ⋂_vouchers C(v). */
export function controllers(grants: Grant[]): (userId: string) => Set<string> {
  const byUser = new Map<string, Grant[]>();
  for (const g of grants) byUser.set(g.userId, [...(byUser.get(g.userId) ?? []), g]);
  const users = new Set([
    ...byUser.keys(),
    ...grants.flatMap((g) => (g.grantedById ? [g.grantedById, ...g.approvedByIds] : g.approvedByIds)),
  ]);
  const c = new Map([...users].map((u) => [u, new Set([u])]));
  const of = (u: string) => c.get(u) ?? new Set([u]);
  // Every grant ever made counts, revoked or not: a role once granted could have been used.
  for (let changed = true; changed;) {
    changed = false;
    for (const [u, gs] of byUser) {
      const set = c.get(u)!;
      for (const g of gs) {
        const vouchers = [...new Set([...(g.grantedById ? [g.grantedById] : []), ...g.approvedByIds])];
        if (vouchers.length === 0) continue;
        const common = [...of(vouchers[0]!)].filter((x) => vouchers.every((v) => of(v).has(x)));
        for (const x of common)
          if (!set.has(x)) {
            set.add(x);
            changed = true;
          }
      }
    }
  }
  return of;
}

/** Controllers of `userId` through their grant of `role` alone (what makes them an approver). */
function controllersVia(grant: Grant, of: (u: string) => Set<string>): Set<string> {
  const vouchers = [...new Set([...(grant.grantedById ? [grant.grantedById] : []), ...grant.approvedByIds])];
  const out = new Set([grant.userId]);
  if (vouchers.length === 0) return out;
  for (const x of of(vouchers[0]!)) if (vouchers.every((v) => of(v).has(x))) out.add(x);
  return out;
}

export type ApprovalCheck = { approverId: string; counts: boolean; why: string | null };

/**
 * Which of `approvals` (in the order given, earliest first) count for a request made by
 * `requesterId` at `requestedAt` that needs the role `role`.
 */
export async function countIndependentApprovals(
  db: Tx,
  req: { requesterId: string; requestedAt: Date; role: string | null },
  approvals: { approverId: string }[],
): Promise<{ count: number; approvers: string[]; checks: ApprovalCheck[] }> {
  const ids = [...new Set(approvals.map((a) => a.approverId))];
  if (ids.length === 0) return { count: 0, approvers: [], checks: [] };
  const grants: Grant[] = await db.roleGrant.findMany({
    select: {
      userId: true,
      role: true,
      grantedById: true,
      approvedByIds: true,
      grantedAt: true,
      revokedAt: true,
    },
  });
  const disabled = new Set(
    (await db.user.findMany({ where: { id: { in: ids }, disabled: true }, select: { id: true } })).map(
      (u) => u.id,
    ),
  );
  const of = controllers(grants);
  const requester = of(req.requesterId);
  const counted: { id: string; c: Set<string> }[] = [];
  const checks: ApprovalCheck[] = [];
  const seen = new Set<string>();
  for (const { approverId } of approvals) {
    if (seen.has(approverId)) continue;
    seen.add(approverId);
    const why = ((): string | null => {
      if (approverId === req.requesterId) return "the requester never counts";
      if (disabled.has(approverId)) return "the approver's account is disabled";
      const g = grants.find(
        (x) => x.userId === approverId && x.revokedAt === null && (req.role === null || x.role === req.role),
      );
      if (!g) return `the approver does not hold the role ${req.role} by a recorded grant`;
      if (g.grantedAt >= req.requestedAt)
        return `the approver's ${g.role} role was granted after the request was made`;
      const mine = controllersVia(g, of);
      const common = [...mine].find((x) => requester.has(x));
      if (common !== undefined)
        return common === req.requesterId
          ? `the approver's ${g.role} role rests solely on the requester`
          : `the requester and the approver both rest solely on the same account (${common})`;
      const twin = counted.find((o) => [...mine].some((x) => o.c.has(x)));
      if (twin) return `this approver and ${twin.id}, who already approved, rest solely on the same account`;
      counted.push({ id: approverId, c: mine });
      return null;
    })();
    checks.push({ approverId, counts: why === null, why });
  }
  return { count: counted.length, approvers: counted.map((c) => c.id), checks };
}
