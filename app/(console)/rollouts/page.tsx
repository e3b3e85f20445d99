import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { RolloutsView } from "./rollouts-view";

export const metadata: Metadata = { title: "Rollouts" };

export default async function RolloutsPage() {
  const viewer = await requireViewer();
  const canCreate = viewer.roles.some((r) => r === "admin" || r === "operator");
  return <RolloutsView canCreate={canCreate} />;
}
