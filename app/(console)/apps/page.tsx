import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { AppsView } from "./apps-view";

export const metadata: Metadata = { title: "Apps" };

export default async function AppsPage() {
  const viewer = await requireViewer(["admin", "operator", "approver", "auditor"]);
  return <AppsView roles={viewer.roles} />;
}
