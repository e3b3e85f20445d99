// Creates or updates a host group: static (explicit members, see setGroupMembers) or filter-based
// (members are the hosts matching a HostFilter at query time). Audited as group.save.
import { Prisma } from "@prisma/client";
import { z } from "zod";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { ZHostFilter, type InventoryDeps } from "@/server/services/inventory/types";

export const ZGroupName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/, "group names are letters, digits, space . _ -");
export const ZSaveGroupRequest = z
  .object({
    id: z.uuid().optional(),
    name: ZGroupName,
    description: z.string().max(500).default(""),
    kind: z.enum(["static", "filter"]),
    // A filter group cannot refer to another group (keeps membership one query deep).
    filter: ZHostFilter.omit({ groupId: true, ids: true }).nullish(),
  })
  .strict();

export async function saveGroup(
  deps: InventoryDeps,
  input: z.input<typeof ZSaveGroupRequest> & { actorId: string | null },
) {
  const { actorId, ...raw } = input;
  const g = ZSaveGroupRequest.parse(raw);
  if (g.kind === "filter" && (!g.filter || Object.keys(g.filter).length === 0))
    throw new AppError("BAD_REQUEST", {
      message: "a filter group needs a filter (label, environment, OS, app/version…)",
    });
  const data = {
    name: g.name,
    description: g.description,
    kind: g.kind,
    filter:
      g.kind === "filter" ? (JSON.parse(JSON.stringify(g.filter)) as Prisma.InputJsonValue) : Prisma.DbNull,
  };
  try {
    return await deps.db.$transaction(async (tx) => {
      const saved = g.id
        ? await tx.hostGroup.update({ where: { id: g.id }, data, select: { id: true, name: true } })
        : await tx.hostGroup.create({ data, select: { id: true, name: true } });
      if (g.kind === "filter") await tx.hostGroupMember.deleteMany({ where: { groupId: saved.id } });
      await appendAudit(tx, {
        actorId,
        action: "group.save",
        target: `group:${saved.name}`,
        detail: { kind: g.kind, filter: g.filter ?? null },
      });
      return saved;
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AppError("CONFLICT", { message: `a group named ${g.name} exists` });
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2025")
      throw new AppError("NOT_FOUND", { message: `group ${g.id} does not exist` });
    throw e;
  }
}
