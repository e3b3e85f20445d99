import { procedureFor } from "@/server/trpc/init";
import { listAuditEvents } from "@/server/services/audit/list-audit-events";
import { ZListAuditRequest, ZListAuditResponse } from "./schemas";

export const listAuditRoute = procedureFor(["auditor", "admin"])
  .input(ZListAuditRequest)
  .output(ZListAuditResponse)
  .query(({ ctx, input: { cursor, limit, ...filter } }) =>
    listAuditEvents({ db: ctx.db, filter, cursor, limit }),
  );
