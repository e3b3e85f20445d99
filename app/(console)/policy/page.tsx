import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { NotBuiltYet } from "../_placeholder";

export const metadata: Metadata = { title: "Policy" };

export default async function PolicyPage() {
  await requireViewer();
  return <NotBuiltYet title="Policy" issue={7} what="The approval policy: versioned, validated, diffed against the previous version, with a dry run." />;
}
