// Hosts removed from the inventory, newest first, optionally by name (substring): the way to a
// retired host's page, where its history and timeline stay readable.
import { Prisma } from "@prisma/client";
import { likePattern } from "@/server/services/inventory/host-filter-sql";
import type { InventoryDeps } from "@/server/services/inventory/types";

export type RetiredHostRow = {
  id: string;
  name: string;
  address: string;
  environment: string | null;
  createdAt: Date;
  retiredAt: Date;
  retiredBy: string | null;
};

export async function listRetiredHosts(
  deps: InventoryDeps,
  input: { q?: string; limit?: number } = {},
): Promise<RetiredHostRow[]> {
  const q = input.q?.trim();
  return deps.db.$queryRaw<RetiredHostRow[]>(Prisma.sql`
    SELECT h.id, h.name, h.address, h.environment, h.created_at AS "createdAt", retired_at AS "retiredAt",
           COALESCE((SELECT u.email FROM users u WHERE u.id = h.retired_by), h.retired_by) AS "retiredBy"
    FROM retired_hosts h ${q ? Prisma.sql`WHERE h.name ILIKE ${likePattern(q)}` : Prisma.empty}
    ORDER BY h.retired_at DESC, h.name LIMIT ${Math.min(Math.max(1, input.limit ?? 100), 1000)}`);
}
