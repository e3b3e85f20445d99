import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { PageHeader } from "@/app/_components/ui";
import { ReleasesView } from "./releases-view";
import { UploadPanel } from "./upload-panel";

export const metadata: Metadata = { title: "Releases" };

export default async function ReleasesPage() {
  const viewer = await requireViewer(["admin", "operator", "approver", "auditor"]);
  const canUpload = viewer.roles.some((r) => r === "admin" || r === "operator");
  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Releases" />
      {canUpload && <UploadPanel />}
      <ReleasesView />
    </div>
  );
}
