import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { HostDetail } from "./host-detail";

export const metadata: Metadata = { title: "Host" };

export default async function HostPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(["admin", "operator", "approver", "auditor"]);
  const { id } = await params;
  return <HostDetail id={id} roles={viewer.roles} />;
}
