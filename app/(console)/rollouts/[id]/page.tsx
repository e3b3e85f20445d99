import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { RolloutDetail } from "./rollout-detail";

export const metadata: Metadata = { title: "Rollout" };

export default async function RolloutPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer();
  const { id } = await params;
  return <RolloutDetail id={id} viewer={{ id: viewer.id, roles: viewer.roles }} />;
}
