import { procedureFor } from "../../init";
import { getActivePolicy } from "@/server/services/policy/get-active-policy";

export const getPolicyRoute = procedureFor(["admin", "operator", "approver", "auditor"]).query(async ({ ctx }) => {
  const active = await getActivePolicy({ db: ctx.db });
  const versions = await ctx.db.policyVersion.findMany({
    orderBy: { version: "desc" },
    take: 50,
    select: { id: true, version: true, state: true, digest: true, comment: true, createdById: true, createdAt: true, activatedAt: true, document: true },
  });
  return { active, versions };
});
