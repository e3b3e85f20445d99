import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireViewer } from "@/server/auth/viewer";
import { PolicyVersionView } from "./version-view";

export const metadata: Metadata = { title: "Policy version" };

export default async function PolicyVersionPage({ params }: { params: Promise<{ version: string }> }) {
  await requireViewer();
  const { version } = await params;
  if (!/^[1-9][0-9]{0,8}$/.test(version)) notFound();
  return <PolicyVersionView version={Number(version)} />;
}
