import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { ConsoleKeyCard } from "@/app/(console)/_console-key";
import { EnrollForm } from "./enroll-form";

export const metadata: Metadata = { title: "Enroll host" };

export default async function EnrollPage() {
  await requireViewer(["admin"]);
  return (
    <div className="flex max-w-4xl flex-col gap-4">
      <EnrollForm />
      <ConsoleKeyCard compact />
    </div>
  );
}
