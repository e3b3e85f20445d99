import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { NotBuiltYet } from "../_placeholder";

export const metadata: Metadata = { title: "Approvals" };

export default async function ApprovalsPage() {
  await requireViewer();
  return <NotBuiltYet title="Approvals" issue={7} what="What waits for your approval, with the plan, the policy's reasons and the risk." />;
}
