import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ConsoleKeyCard } from "@/app/(console)/_console-key";
import { ImportForm } from "./import-form";

export const metadata: Metadata = { title: "Import hosts" };

export default async function ImportPage() {
  await requireViewer(["admin"]);
  return (
    <div className="flex max-w-4xl flex-col gap-4">
      <ImportForm />
      <ConsoleKeyCard compact />
    </div>
  );
}
