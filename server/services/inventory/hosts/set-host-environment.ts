// Moves one or many hosts to an environment (or none). Timeline + audit host.environment.
import { appendAudit } from "@/server/services/audit/append-audit";
import { ZEnvironment, type InventoryDeps } from "@/server/services/inventory/types";

export async function setHostEnvironment(
  deps: InventoryDeps,
  input: { actorId: string | null; hostIds: string[]; environment: string | null },
): Promise<{ updated: number }> {
  const environment = input.environment === null ? null : ZEnvironment.parse(input.environment);
  return deps.db.$transaction(async (tx) => {
    const hosts = await tx.host.findMany({
      where: { id: { in: input.hostIds } },
      select: { id: true, name: true, environment: true },
    });
    const changing = hosts.filter((h) => h.environment !== environment);
    if (!changing.length) return { updated: 0 };
    await tx.host.updateMany({ where: { id: { in: changing.map((h) => h.id) } }, data: { environment } });
    await tx.hostEvent.createMany({
      data: changing.map((h) => ({
        hostId: h.id,
        kind: "host.environment",
        message: `environment ${h.environment ?? "(none)"} → ${environment ?? "(none)"}`,
        actorId: input.actorId,
      })),
    });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "host.environment",
      target: changing.length === 1 ? `host:${changing[0]!.name}` : `hosts:${changing.length}`,
      detail: { hosts: changing.map((h) => h.name), environment },
    });
    return { updated: changing.length };
  });
}
