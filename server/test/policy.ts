// Tests that need a policy other than the default one: it is made active in place (the way an
// approved proposal ends), without going through proposal and approval.
import type { PrismaClient } from "@prisma/client";
import { getActivePolicy, policyDigest } from "@/server/services/policy/get-active-policy";
import type { PolicyDocument } from "@/server/services/policy/types";

/**
 * Supersedes the active policy version (the default one, installed first on a fresh database) and
 * makes `document` the active one, numbered next; `at` is its activation time (default: now).
 */
export async function activatePolicy(
  db: PrismaClient,
  document: PolicyDocument,
  o: { at?: Date; comment?: string } = {},
): Promise<void> {
  const current = await getActivePolicy({ db });
  await db.policyVersion.update({ where: { version: current.version }, data: { state: "superseded" } });
  await db.policyVersion.create({
    data: {
      version: current.version + 1,
      document,
      digest: policyDigest(document),
      state: "active",
      comment: o.comment,
      activatedAt: o.at ?? new Date(),
    },
  });
}
