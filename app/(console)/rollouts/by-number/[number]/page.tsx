// /rollouts/by-number/12 → the rollout's page: the audit log and the CLI name rollouts by number.
import { notFound, redirect } from "next/navigation";
import { requireViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";

export default async function RolloutByNumber({ params }: { params: Promise<{ number: string }> }) {
  await requireViewer(["admin", "operator", "approver", "auditor"]);
  const { number } = await params;
  if (!/^\d{1,9}$/.test(number)) notFound();
  const r = await db.rollout.findUnique({ where: { number: Number(number) }, select: { id: true } });
  if (!r) notFound();
  redirect(`/rollouts/${r.id}`);
}
