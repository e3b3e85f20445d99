import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { HostsView } from "./hosts-view";

export const metadata: Metadata = { title: "Hosts" };

export default async function HostsPage() {
  const viewer = await requireViewer(["admin", "operator", "approver", "auditor"]);
  return <HostsView roles={viewer.roles} />;
}
