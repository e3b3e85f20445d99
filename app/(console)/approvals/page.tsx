import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ApprovalsView } from "./approvals-view";

export const metadata: Metadata = { title: "Approvals" };

export default async function ApprovalsPage() {
  await requireViewer(["approver", "admin", "auditor"]);
  return <ApprovalsView />;
}
