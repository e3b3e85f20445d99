import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { AuditView } from "./audit-view";

export const metadata: Metadata = { title: "Audit" };

export default async function AuditPage() {
  await requireViewer(["admin", "auditor"]);
  return <AuditView />;
}
