import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";
import { getPolicyVersion } from "@/server/services/policy/get-policy-version";
import { ZPolicyOut, ZPolicyVersionOut } from "./query-outputs";

export const getPolicyRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .output(ZPolicyOut)
  .query(async ({ ctx }) => {
    const active = await getActivePolicy({ db: ctx.db });
    const versions = await ctx.db.policyVersion.findMany({
      orderBy: { version: "desc" },
      take: 50,
      select: {
        id: true,
        version: true,
        state: true,
        digest: true,
        comment: true,
        createdById: true,
        createdAt: true,
        activatedAt: true,
        document: true,
      },
    });
    return { active, versions };
  });

/** One version (any state) with the version in force to diff against: whoever reads the policy reads its proposals. */
export const getPolicyVersionRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(z.strictObject({ version: z.number().int().min(1).max(2_147_483_647) }))
  .output(ZPolicyVersionOut)
  .query(({ ctx, input }) => getPolicyVersion({ db: ctx.db }, ctx.user, input.version));
