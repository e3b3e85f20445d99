import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { EnrollForm } from "./enroll-form";

export const metadata: Metadata = { title: "Enroll host" };

export default async function EnrollPage() {
  await requireViewer(["admin"]);
  return <EnrollForm />;
}
