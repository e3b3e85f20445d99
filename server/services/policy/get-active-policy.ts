// The policy in force. The first call on a fresh database installs the default policy as version 1.
import { createHash } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { canonicalJson } from "@/agent/protocol";
import { DEFAULT_POLICY } from "./default-policy";
import type { PolicyDocument } from "./types";

export type ActivePolicy = { version: number; document: PolicyDocument; digest: string };

export function policyDigest(doc: PolicyDocument): string {
  return createHash("sha256").update(canonicalJson(doc)).digest("hex");
}

export async function getActivePolicy({ db }: { db: PrismaClient }): Promise<ActivePolicy> {
  const found = await db.policyVersion.findFirst({
    where: { state: "active" },
    orderBy: { version: "desc" },
    select: { version: true, document: true, digest: true },
  });
  if (found)
    return { version: found.version, document: found.document as PolicyDocument, digest: found.digest };
  const digest = policyDigest(DEFAULT_POLICY);
  // Two processes may race here on a fresh database; the unique version makes one of them win.
  await db.policyVersion
    .create({
      data: {
        version: 1,
        document: DEFAULT_POLICY,
        digest,
        state: "active",
        comment: "default policy",
        activatedAt: new Date(),
      },
    })
    .catch(() => undefined);
  return getActivePolicy({ db });
}
