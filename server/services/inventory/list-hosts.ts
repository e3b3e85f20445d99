// The fleet's host list: filtered, sorted and paged in PostgreSQL in one statement (the page, the
// total and the app count of each row shown), so it stays fast at 10,000 hosts. Retired hosts are
// not in `hosts` and so never listed here (listRetiredHosts).
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
  const sort = input.sort ?? "name";
  const desc = input.direction === "desc";
  // Names are unique, so the name is the whole tie-break; sorting by name alone walks its index.
  const order =
    sort === "name"
      ? Prisma.raw(desc ? "h.name DESC" : "h.name ASC")
      : Prisma.raw(`${SORT_SQL[sort]} ${desc ? "DESC" : "ASC"} NULLS LAST, h.name ASC`);
  const outerOrder =
    sort === "name" ? Prisma.raw(desc ? "p.name DESC" : "p.name ASC") : Prisma.raw(`p.sort_key ${desc ? "DESC" : "ASC"} NULLS LAST, p.name ASC`);
  // One round trip: the page (top-N or index walk), the total (index-only where the filter allows)
  // and the current-app count of the rows shown only (index-only on (host_id, is_current, …)).
  const rows = await deps.db.$queryRaw<(Omit<HostListRow, "appCount"> & { appCount: number | null; total: bigint })[]>(Prisma.sql`
    WITH page AS (
      SELECT h.id, h.name, h.address, h.port, h."user", h.environment, h.labels, h.reachable,
             h.host_key_changed AS "hostKeyChanged", h.last_error AS "lastError", h.last_seen_at AS "lastSeenAt",
             h.last_refresh_at AS "lastRefreshAt", h.os, h.kernel, h.arch, h.agent_version AS "agentVersion",
             ${Prisma.raw(SORT_SQL[sort])} AS sort_key
      FROM hosts h
      WHERE ${where}
      ORDER BY ${order}
      LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}
    )
    SELECT p.id, p.name, p.address, p.port, p."user", p.environment, p.labels, p.reachable, p."hostKeyChanged", p."lastError",
           p."lastSeenAt", p."lastRefreshAt", p.os, p.kernel, p.arch, p."agentVersion",
           (SELECT count(*) FROM installed_versions iv WHERE iv.host_id = p.id AND iv.is_current)::int AS "appCount",
           t.total
    FROM (SELECT count(*) AS total FROM hosts h WHERE ${where}) t LEFT JOIN page p ON TRUE
    ORDER BY ${outerOrder}`);
  const total = Number(rows[0]?.total ?? 0);
  return {
    total,
    page,
    pageSize,
    rows: rows
      .filter((r) => r.id !== null)
      .map(({ total: _t, appCount, ...r }) => ({ ...r, appCount: appCount ?? 0 })),
  };
}
