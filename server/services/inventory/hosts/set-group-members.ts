// Adds hosts to / removes hosts from a static group. Audited as group.members.
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { InventoryDeps } from "@/server/services/inventory/types";

export async function setGroupMembers(
  deps: InventoryDeps,
  input: { actorId: string | null; groupId: string; add?: string[]; remove?: string[] },
) {
  return deps.db.$transaction(async (tx) => {
    const g = await tx.hostGroup.findUnique({
      where: { id: input.groupId },
      select: { id: true, name: true, kind: true },
    });
    if (!g) throw new AppError("NOT_FOUND", { message: `group ${input.groupId} does not exist` });
    if (g.kind !== "static")
      throw new AppError("BAD_REQUEST", {
        message: `${g.name} is a filter group: change its filter instead of its members`,
      });
    const add = input.add ?? [];
    const remove = input.remove ?? [];
    const existing = await tx.host.count({ where: { id: { in: add } } });
    if (existing !== new Set(add).size)
      throw new AppError("NOT_FOUND", { message: "some of the hosts to add are not enrolled" });
    const added = await tx.hostGroupMember.createMany({
      data: add.map((hostId) => ({ groupId: g.id, hostId })),
      skipDuplicates: true,
    });
    const removed = await tx.hostGroupMember.deleteMany({ where: { groupId: g.id, hostId: { in: remove } } });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "group.members",
      target: `group:${g.name}`,
      detail: { add, remove },
    });
    return { added: added.count, removed: removed.count };
  });
}
