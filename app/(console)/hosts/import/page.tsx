import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ImportForm } from "./import-form";

export const metadata: Metadata = { title: "Import hosts" };

export default async function ImportPage() {
  await requireViewer(["admin"]);
  return <ImportForm />;
}
