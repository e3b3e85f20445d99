// An admin's unlock: forgets an account's failed sign-ins, so that its owner can sign in from an
// address that was failing too, at once (./sign-in-throttle.ts). Audited as user.unlock.
import type { PrismaClient } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";
import { findUserOrThrow } from "@/server/services/users/find-user";
import { signInThrottle, type SignInThrottle } from "./sign-in-throttle";

export async function unlockSignIn({
  db,
  actorId,
  userId,
  throttle = signInThrottle(),
}: {
  db: PrismaClient;
  actorId: string;
  userId: string;
  throttle?: SignInThrottle;
}): Promise<{ email: string; hadFailures: boolean }> {
  const user = await findUserOrThrow(db, userId);
  const hadFailures = throttle.unlock(user.email);
  await appendAudit(db, {
    actorId,
    action: "user.unlock",
    target: `user:${user.email}`,
    detail: { hadFailures },
  });
  return { email: user.email, hadFailures };
}
