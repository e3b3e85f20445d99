// Deletes a group (its memberships and group-scoped targets go with it). Audited as group.delete.
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { InventoryDeps } from "@/server/services/inventory/types";

export async function deleteGroup(deps: InventoryDeps, input: { actorId: string | null; id: string }) {
  return deps.db.$transaction(async (tx) => {
    const g = await tx.hostGroup.findUnique({ where: { id: input.id }, select: { id: true, name: true } });
    if (!g) throw new AppError("NOT_FOUND", { message: `group ${input.id} does not exist` });
    await tx.hostGroup.delete({ where: { id: g.id } });
    await appendAudit(tx, { actorId: input.actorId, action: "group.delete", target: `group:${g.name}` });
    return { name: g.name };
  });
}
