import { procedureFor } from "../../init";
import { verifyAuditChain } from "../../../services/audit/verify-audit-chain";
import { ZVerifyAuditResponse } from "./schemas";

export const verifyAuditRoute = procedureFor(["auditor", "admin"])
  .output(ZVerifyAuditResponse)
  .query(({ ctx }) => verifyAuditChain({ db: ctx.db }));
