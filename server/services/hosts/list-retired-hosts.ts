// Hosts removed from the inventory, newest first, optionally by name (substring): the way to a
// retired host's page, where its history and timeline stay readable.
import { Prisma } from "@prisma/client";
import { likePattern } from "../inventory/host-filter-sql";
import type { InventoryDeps } from "../inventory/types";

export type RetiredHostRow = { id: string; name: string; address: string; environment: string | null; createdAt: Date; retiredAt: Date; retiredBy: string | null };

export async function listRetiredHosts(deps: InventoryDeps, input: { q?: string; limit?: number } = {}): Promise<RetiredHostRow[]> {
  const q = input.q?.trim();
  return deps.db.$queryRaw<RetiredHostRow[]>(Prisma.sql`
    SELECT id, name, address, environment, created_at AS "createdAt", retired_at AS "retiredAt", retired_by AS "retiredBy"
    FROM retired_hosts ${q ? Prisma.sql`WHERE name ILIKE ${likePattern(q)}` : Prisma.empty}
    ORDER BY retired_at DESC, name LIMIT ${Math.min(Math.max(1, input.limit ?? 100), 1000)}`);
}
