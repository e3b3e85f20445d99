import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { UsersView } from "./users-view";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const viewer = await requireViewer(["admin"]);
  return <UsersView viewerId={viewer.id} />;
}
