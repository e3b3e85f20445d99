import { resolve } from "node:path";
import { procedureFor } from "@/server/trpc/init";
import { getEnv } from "@/server/env";
import { verifyAuditChain } from "@/server/services/audit/verify-audit-chain";
import { ZVerifyAuditResponse } from "./schemas";

// Checked against the signed checkpoints in the console's data dir (docs/audit.md).
export const verifyAuditRoute = procedureFor(["auditor", "admin"])
  .output(ZVerifyAuditResponse)
  .query(({ ctx }) => verifyAuditChain({ db: ctx.db, dataDir: resolve(getEnv().KEEL_DATA_DIR) }));
