// Lab tests that need a policy other than the default one: it is made active in place (the way an
// approved proposal ends), without going through proposal and approval.
import type { PrismaClient } from "@prisma/client";
import { policyDigest } from "@/server/services/policy/get-active-policy";
import type { PolicyDocument } from "@/server/services/policy/types";

/** Supersedes the active policy version and makes `document` the active one, numbered next. */
export async function activatePolicy(db: PrismaClient, document: PolicyDocument): Promise<void> {
  const top = await db.policyVersion.aggregate({ _max: { version: true } });
  await db.policyVersion.updateMany({ where: { state: "active" }, data: { state: "superseded" } });
  await db.policyVersion.create({
    data: {
      version: (top._max.version ?? 0) + 1,
      document,
      digest: policyDigest(document),
      state: "active",
      activatedAt: new Date(),
    },
  });
}
