import { router } from "@/server/trpc/init";
import { listAuditRoute } from "./list-audit";
import { verifyAuditRoute } from "./verify-audit";

export const auditRouter = router({ list: listAuditRoute, verify: verifyAuditRoute });
