// The fleet's host list: filtered, sorted and paged in PostgreSQL (one query for the page, one for
// the total), so it stays fast at 10,000 hosts.
import { Prisma } from "@prisma/client";
import { resolveHostFilter } from "./host-filter-sql";
import type { HostSortKey, InventoryDeps, THostFilter } from "./types";

const SORT_SQL: Record<HostSortKey, string> = {
  name: "h.name",
  address: "h.address",
  environment: "h.environment",
  os: "h.os",
  reachable: "h.reachable",
  lastSeenAt: "h.last_seen_at",
  lastRefreshAt: "h.last_refresh_at",
  createdAt: "h.created_at",
};

export type HostListRow = {
  id: string;
  name: string;
  address: string;
  port: number;
  user: string;
  environment: string | null;
  labels: Record<string, string>;
  reachable: boolean | null;
  hostKeyChanged: boolean;
  lastError: string | null;
  lastSeenAt: Date | null;
  lastRefreshAt: Date | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  agentVersion: string | null;
  appCount: number;
};

export type ListHostsInput = {
  filter?: THostFilter;
  sort?: HostSortKey;
  direction?: "asc" | "desc";
  page?: number;
  pageSize?: number;
};

export const MAX_PAGE_SIZE = 500;

export async function listHosts(deps: InventoryDeps, input: ListHostsInput = {}): Promise<{ total: number; page: number; pageSize: number; rows: HostListRow[] }> {
  const where = await resolveHostFilter(deps.db, input.filter ?? {});
  const pageSize = Math.min(Math.max(1, input.pageSize ?? 50), MAX_PAGE_SIZE);
  const page = Math.max(1, input.page ?? 1);
  const dir = Prisma.raw(input.direction === "desc" ? "DESC NULLS LAST" : "ASC NULLS LAST");
  const col = Prisma.raw(SORT_SQL[input.sort ?? "name"]);
  const [rows, total] = await Promise.all([
    deps.db.$queryRaw<Omit<HostListRow, "appCount">[]>(Prisma.sql`
      SELECT h.id, h.name, h.address, h.port, h."user", h.environment, h.labels, h.reachable,
             h.host_key_changed AS "hostKeyChanged", h.last_error AS "lastError", h.last_seen_at AS "lastSeenAt",
             h.last_refresh_at AS "lastRefreshAt", h.os, h.kernel, h.arch, h.agent_version AS "agentVersion"
      FROM hosts h
      WHERE ${where}
      ORDER BY ${col} ${dir}, h.name ASC, h.id ASC
      LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`),
    deps.db.$queryRaw<{ n: bigint }[]>(Prisma.sql`SELECT count(*) AS n FROM hosts h WHERE ${where}`),
  ]);
  // Counted for the rows shown only (a select-list subquery would run for every row the sort passes).
  const counts = rows.length
    ? await deps.db.$queryRaw<{ host_id: string; n: bigint }[]>(Prisma.sql`
        SELECT host_id, count(*) AS n FROM installed_versions
        WHERE host_id IN (${Prisma.join(rows.map((r) => Prisma.sql`${r.id}::uuid`))}) AND is_current GROUP BY host_id`)
    : [];
  const appCount = new Map(counts.map((c) => [c.host_id, Number(c.n)]));
  return {
    total: Number(total[0]?.n ?? 0),
    page,
    pageSize,
    rows: rows.map((r) => ({ ...r, appCount: appCount.get(r.id) ?? 0 })),
  };
}
