import { procedureFor } from "../../init";
import { listPendingApprovals } from "@/server/services/rollouts/list-pending-approvals";

export const pendingApprovalsRoute = procedureFor(["approver", "admin", "auditor"]).query(({ ctx }) =>
  listPendingApprovals({ db: ctx.db }, ctx.user),
);
