import { procedureFor } from "@/server/trpc/init";
import { listPendingApprovals } from "@/server/services/rollouts/list-pending-approvals";
import { ZPendingApprovalsOut } from "./query-outputs";

export const pendingApprovalsRoute = procedureFor(["approver", "admin", "auditor"])
  .output(ZPendingApprovalsOut)
  .query(({ ctx }) => listPendingApprovals({ db: ctx.db }, ctx.user));
