// The fleet's host list: filtered, sorted and paged in PostgreSQL in one statement (the page, the
// total and the app count of each row shown), paged by keyset cursors (keyset.ts), so it stays fast
// at 100,000 hosts. Retired hosts are not in `hosts` and so never listed here (listRetiredHosts).
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { resolveHostFilter } from "./host-filter-sql";
import { countsTableTotal } from "./host-environment-counts";
import { decodeCursor, encodeCursor, keysetOrder, keysetPredicate } from "./keyset";
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
  /** A page's `nextCursor`: the rows after it. */
  after?: string;
  /** A page's `prevCursor`: the rows before it. */
  before?: string;
  pageSize?: number;
};

export type HostPage = {
  total: number;
  pageSize: number;
  rows: HostListRow[];
  nextCursor: string | null;
  prevCursor: string | null;
};

export const MAX_PAGE_SIZE = 500;

const SORT_CAST: Record<HostSortKey, string> = {
  name: "text",
  address: "text",
  environment: "text",
  os: "text",
  reachable: "boolean",
  lastSeenAt: "timestamptz",
  lastRefreshAt: "timestamptz",
  createdAt: "timestamptz",
};

export async function listHosts(deps: InventoryDeps, input: ListHostsInput = {}): Promise<HostPage> {
  const where = await resolveHostFilter(deps.db, input.filter ?? {});
  const pageSize = Math.min(Math.max(1, input.pageSize ?? 50), MAX_PAGE_SIZE);
  const sort = input.sort ?? "name";
  const dir = input.direction === "desc" ? "desc" : "asc";
  if (input.after && input.before)
    throw new AppError("BAD_REQUEST", { message: "Give either after or before, not both." });
  const after = input.after ? decodeCursor(input.after, sort, dir) : null;
  const before = input.before ? decodeCursor(input.before, sort, dir) : null;
  // Names are unique, so the name is the whole tie-break; sorting by name alone walks its index.
  const col = sort === "name" ? null : SORT_SQL[sort];
  const seek = after
    ? keysetPredicate(col, SORT_CAST[sort], dir, after, "after")
    : before
      ? keysetPredicate(col, SORT_CAST[sort], dir, before, "before")
      : Prisma.sql`TRUE`;
  // One round trip: the page plus one row (is there more?) read by the sort's index or a top-N
  // sort, the total (index-only where the filter allows) and the current-app count of the rows
  // shown only (index-only on (host_id, is_current, …)). A page before a cursor is read in the
  // reverse order and flipped here.
  // Free text is answered by the trigram index and a recheck of every candidate row: that match
  // set is found once (materialized: its ids, names and sort keys) and both the total and the page
  // read it, instead of a count over the bitmap scan plus a walk of the sort's index that tests
  // every host it passes. The total of a filter the counts tables answer is read from them.
  const freeText = !!input.filter?.q?.trim();
  const counted = freeText ? null : countsTableTotal(input.filter ?? {});
  const order = keysetOrder(col, dir, before !== null);
  const matchCte = freeText
    ? Prisma.sql`m AS MATERIALIZED (
      SELECT h.id, h.name${col === null ? Prisma.empty : Prisma.raw(`, ${col}`)} FROM hosts h WHERE ${where}),`
    : Prisma.empty;
  const pageRows = freeText
    ? Prisma.sql`hosts h WHERE h.id IN (SELECT h.id FROM m h WHERE ${seek} ORDER BY ${order} LIMIT ${pageSize + 1})`
    : Prisma.sql`hosts h WHERE ${where} AND ${seek} ORDER BY ${order} LIMIT ${pageSize + 1}`;
  const totalSql = freeText
    ? Prisma.sql`SELECT count(*) AS total FROM m`
    : counted
      ? Prisma.sql`SELECT ${counted} AS total`
      : Prisma.sql`SELECT count(*) AS total FROM hosts h WHERE ${where}`;
  const rows = await deps.db.$queryRaw<
    (Omit<HostListRow, "appCount"> & { appCount: number | null; total: bigint; cursorKey: string | null })[]
  >(Prisma.sql`
    WITH ${matchCte} page AS (
      SELECT h.id, h.name, h.address, h.port, h."user", h.environment, h.labels, h.reachable,
             h.host_key_changed AS "hostKeyChanged", h.last_error AS "lastError", h.last_seen_at AS "lastSeenAt",
             h.last_refresh_at AS "lastRefreshAt", h.os, h.kernel, h.arch, h.agent_version AS "agentVersion",
             ${Prisma.raw(SORT_SQL[sort])} AS sort_key
      FROM ${pageRows}
    )
    SELECT p.id, p.name, p.address, p.port, p."user", p.environment, p.labels, p.reachable, p."hostKeyChanged", p."lastError",
           p."lastSeenAt", p."lastRefreshAt", p.os, p.kernel, p.arch, p."agentVersion", p.sort_key::text AS "cursorKey",
           (SELECT count(*) FROM installed_versions iv WHERE iv.host_id = p.id AND iv.is_current AND iv.kind = 'app')::int AS "appCount",
           t.total
    FROM (${totalSql}) t LEFT JOIN page p ON TRUE
    ORDER BY ${keysetOrder(col === null ? null : "p.sort_key", dir, before !== null, "p.name")}`);
  const total = Number(rows[0]?.total ?? 0);
  let page = rows.filter((r) => r.id !== null);
  const more = page.length > pageSize;
  page = page.slice(0, pageSize);
  if (before) page.reverse();
  const cursorOf = (r: (typeof page)[number]) =>
    encodeCursor({ s: sort, d: dir, v: col === null ? null : r.cursorKey, n: r.name });
  const first = page[0];
  const last = page[page.length - 1];
  return {
    total,
    pageSize,
    // After a cursor there is always something before; before a cursor, something after.
    nextCursor: last && (before ? true : more) ? cursorOf(last) : null,
    prevCursor: first && (before ? more : after !== null) ? cursorOf(first) : null,
    rows: page.map(({ total: _t, cursorKey: _k, appCount, ...r }) => ({ ...r, appCount: appCount ?? 0 })),
  };
}
