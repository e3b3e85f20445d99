import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { NotBuiltYet } from "../_placeholder";

export const metadata: Metadata = { title: "Releases" };

export default async function ReleasesPage() {
  await requireViewer();
  return <NotBuiltYet title="Releases" issue={5} what="Signed releases per app, their versions and which hosts have them, uploads and cached deltas." />;
}
