import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { NotBuiltYet } from "../_placeholder";

export const metadata: Metadata = { title: "Rollouts" };

export default async function RolloutsPage() {
  await requireViewer();
  return <NotBuiltYet title="Rollouts" issue={7} what="Plan, approve and run rollouts in waves, with live per-host progress, pause, resume and fleet rollback." />;
}
