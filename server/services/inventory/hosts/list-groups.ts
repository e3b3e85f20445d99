// All groups with their member counts (filter groups counted by running their filter).
import { Prisma } from "@prisma/client";
import { hostFilterSql } from "@/server/services/inventory/host-filter-sql";
import { ZHostFilter, type InventoryDeps, type THostFilter } from "@/server/services/inventory/types";

export async function listGroups(deps: InventoryDeps) {
  const groups = await deps.db.hostGroup.findMany({
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      description: true,
      kind: true,
      filter: true,
      createdAt: true,
      _count: { select: { members: true } },
    },
  });
  return Promise.all(
    groups.map(async (g) => {
      let filter: THostFilter | null = null;
      let hosts = g._count.members;
      if (g.kind === "filter") {
        const parsed = ZHostFilter.safeParse(g.filter);
        filter = parsed.success ? parsed.data : null;
        const where = filter ? hostFilterSql({ ...filter, groupId: undefined }) : Prisma.sql`FALSE`;
        const r = await deps.db.$queryRaw<{ n: bigint }[]>(
          Prisma.sql`SELECT count(*) AS n FROM hosts h WHERE ${where}`,
        );
        hosts = Number(r[0]?.n ?? 0);
      }
      return {
        id: g.id,
        name: g.name,
        description: g.description,
        kind: g.kind,
        filter,
        createdAt: g.createdAt,
        hosts,
      };
    }),
  );
}
