// /hosts/by-name/web-1 → the host's page (enrolled or retired): the audit log names hosts by name.
import { notFound, redirect } from "next/navigation";
import { getServerCaller } from "@/app/_trpc/server";
import { requireViewer } from "@/server/auth/viewer";

export default async function HostByName({ params }: { params: Promise<{ name: string }> }) {
  await requireViewer(["admin", "operator", "approver", "auditor"]);
  const { name } = await params;
  const host = await (
    await getServerCaller()
  ).hosts
    .get({ name: decodeURIComponent(name) })
    .catch(() => null);
  if (!host) notFound();
  redirect(`/hosts/${host.id}`);
}
