import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ReleaseDetail } from "./release-detail";

export const metadata: Metadata = { title: "Release" };

export default async function ReleasePage({ params }: { params: Promise<{ app: string; version: string }> }) {
  const viewer = await requireViewer(["admin", "operator", "approver", "auditor"]);
  const { app, version } = await params;
  const canDelete = viewer.roles.some((r) => r === "admin" || r === "operator");
  return (
    <ReleaseDetail
      app={decodeURIComponent(app)}
      version={decodeURIComponent(version)}
      canDelete={canDelete}
    />
  );
}
