// The bounded time (docs/auth.md): an account linked to the provider acts — by session or API token
// — only while the provider vouched for it within the last hour and its groups still give it a role.
// The re-check (./recheck.ts) asks the provider every 10 minutes; if the provider refuses the user,
// or cannot be asked for an hour, the account's sessions and tokens stop working.
import type { PrismaClient } from "@prisma/client";

export const RECHECK_MS = 10 * 60_000;
export const MAX_STALE_MS = 60 * 60_000;

/** Why a linked account may not act now (null: it may; accounts not linked to the provider always may). */
export async function directoryRefusal(
  db: PrismaClient,
  userId: string,
  now = new Date(),
): Promise<string | null> {
  const link = await db.oidcLink.findUnique({
    where: { userId },
    select: { state: true, confirmedAt: true },
  });
  if (!link) return null;
  if (link.state === "gone") return "the identity provider no longer knows this account";
  if (link.state !== "active") return "the account's groups grant no role";
  if (now.getTime() - link.confirmedAt.getTime() > MAX_STALE_MS)
    return "the identity provider has not confirmed this account for over an hour";
  return null;
}
