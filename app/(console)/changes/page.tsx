import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ChangesView } from "./changes-view";

export const metadata: Metadata = { title: "Change requests" };

export default async function ChangesPage() {
  await requireViewer(["admin", "operator", "approver", "auditor"]);
  return <ChangesView />;
}
