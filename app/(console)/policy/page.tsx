import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { PolicyView } from "./policy-view";

export const metadata: Metadata = { title: "Policy" };

export default async function PolicyPage() {
  const viewer = await requireViewer();
  return <PolicyView canEdit={viewer.roles.includes("admin")} />;
}
