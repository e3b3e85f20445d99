// Removes a host from the inventory together with its versions, history and timeline (the audit
// log keeps the removal). Admin-only and audited as host.remove.
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { InventoryDeps } from "../inventory/types";

export async function removeHost(deps: InventoryDeps, input: { actorId: string | null; id: string }): Promise<{ name: string }> {
  return deps.db.$transaction(async (tx) => {
    const host = await tx.host.findUnique({ where: { id: input.id }, select: { id: true, name: true, address: true, hostKeyFingerprint: true } });
    if (!host) throw new AppError("NOT_FOUND", { message: `host ${input.id} is not enrolled` });
    await tx.host.delete({ where: { id: host.id } });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "host.remove",
      target: `host:${host.name}`,
      detail: { address: host.address, fingerprint: host.hostKeyFingerprint },
    });
    return { name: host.name };
  });
}
