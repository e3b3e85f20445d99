// Sets or removes labels on one or many hosts (merge: `set` overrides, `unset` removes keys).
// Recorded on each host's timeline and audited as host.labels.
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { ZLabels, type InventoryDeps } from "@/server/services/inventory/types";

export async function setHostLabels(
  deps: InventoryDeps,
  input: { actorId: string | null; hostIds: string[]; set?: Record<string, string>; unset?: string[] },
): Promise<{ updated: number }> {
  const set = ZLabels.parse(input.set ?? {});
  const unset = input.unset ?? [];
  if (!Object.keys(set).length && !unset.length)
    throw new AppError("BAD_REQUEST", { message: "nothing to change: give labels to set or keys to remove" });
  if (!input.hostIds.length) return { updated: 0 };
  const ids = Prisma.join(input.hostIds.map((id) => Prisma.sql`${id}::uuid`));
  return deps.db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string; name: string }[]>(Prisma.sql`
      UPDATE hosts SET labels = (labels - ${unset}::text[]) || ${JSON.stringify(set)}::jsonb, updated_at = now()
      WHERE id IN (${ids}) RETURNING id, name`);
    const text = [...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...unset.map((k) => `-${k}`)].join(
      " ",
    );
    await tx.hostEvent.createMany({
      data: rows.map((r) => ({
        hostId: r.id,
        kind: "host.labels",
        message: `labels ${text}`,
        actorId: input.actorId,
        detail: { set, unset },
      })),
    });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "host.labels",
      target: rows.length === 1 ? `host:${rows[0]!.name}` : `hosts:${rows.length}`,
      detail: { hosts: rows.map((r) => r.name), set, unset },
    });
    return { updated: rows.length };
  });
}
