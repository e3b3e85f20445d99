// "As of T": what each host ran at a past time, from the validity periods in
// installed_version_history. Paged over the hosts enrolled then — retired ones included —
// (optionally filtered); per host, the current version of each app (or of one app) at T.
// One statement per call, paged by a (name, id) keyset cursor (keyset.ts).
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { resolveHostFilter } from "./host-filter-sql";
import { decodeCursor, encodeCursor } from "./keyset";
import { readVersionsAt } from "./history-counts";
import { hostsAtParts, hostsAtSql } from "./hosts-at";
import { hostsAtCountSql } from "./hosts-at-count";
import type { InventoryDeps, THostFilter } from "./types";

/** At most this many hosts running the app at T: page from its live periods, not by walking hosts. */
const SPARSE_AS_OF = 5000;

export type HostAsOfRow = {
  id: string;
  name: string;
  environment: string | null;
  retiredAt: Date | null;
  versions: { app: string; version: string }[];
};

export async function getHostsAsOf(
  deps: InventoryDeps,
  input: { at: Date; app?: string; filter?: THostFilter; after?: string; before?: string; pageSize?: number },
): Promise<{
  at: Date;
  app: string | null;
  total: number;
  pageSize: number;
  rows: HostAsOfRow[];
  nextCursor: string | null;
  prevCursor: string | null;
}> {
  const where = await resolveHostFilter(deps.db, input.filter ?? {});
  const pageSize = Math.min(Math.max(1, input.pageSize ?? 50), 500);
  if (input.after && input.before)
    throw new AppError("BAD_REQUEST", { message: "Give either after or before, not both." });
  // Names can repeat here (a retired host's name given to a new one), so the cursor is (name, id).
  const cur = input.after ?? input.before;
  const c = cur ? decodeCursor(cur, "name", "asc") : null;
  if (c && !c.i)
    throw new AppError("BAD_REQUEST", {
      message: "The page cursor is not one this list made; start again from the first page.",
    });
  const back = !!input.before;
  const seek = c
    ? Prisma.sql`(h.name, h.id) ${Prisma.raw(back ? "<" : ">")} (${c.n}, ${c.i}::uuid)`
    : Prisma.sql`TRUE`;
  const order = Prisma.raw(back ? "h.name DESC, h.id DESC" : "h.name, h.id");
  const outer = Prisma.raw(back ? "p.name DESC, p.id DESC" : "p.name, p.id");
  const merged = Prisma.raw(back ? "u.name DESC, u.id DESC" : "u.name, u.id");
  const limit = pageSize + 1;
  // The page from each half (enrolled now, retired since) by its (name, id) index, then merged.
  const halves = (select: (h: Prisma.Sql) => Prisma.Sql) =>
    Prisma.sql`SELECT * FROM ((${select(parts[0])}) UNION ALL (${select(parts[1])})) u ORDER BY ${merged} LIMIT ${limit}`;
  const at = input.at;
  const hosts = hostsAtSql(at);
  const parts = hostsAtParts(at);
  const live = Prisma.sql`x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at})`;
  type Row = {
    id: string | null;
    name: string;
    environment: string | null;
    retired_at: Date | null;
    versions: { app: string; version: string }[] | null;
    total?: bigint;
  };
  let rows: Row[];
  let totalCount: number | null = null;
  if (input.app) {
    // One app: walk the hosts enrolled then in name order, probing each one's live period of the
    // app by (host_id, app, valid_from), until the page is full. The total counts the live periods
    // (a live period belongs to a host enrolled then), joined to the hosts only to filter.
    const filtered = Object.values(input.filter ?? {}).some((v) => v !== undefined);
    const total = Prisma.sql`SELECT count(*) AS total FROM installed_version_history x JOIN ${hosts} h ON h.id = x.host_id WHERE x.app = ${input.app} AND ${live} AND ${where}`;
    // Dense (most hosts ran the app then): walk the hosts in name order probing each. Sparse (few
    // or none did, e.g. before the app was rolled out): walking would probe every host to fill a
    // page, so start from the app's live periods instead and sort those hosts.
    // Unfiltered, the live periods are counted from the history's deltas (history-counts.ts).
    const count = filtered
      ? Number((await deps.db.$queryRaw<{ total: bigint }[]>(total))[0]?.total ?? 0)
      : (await readVersionsAt(deps.db, input.app, at)).reduce((s, v) => s + v.hosts, 0);
    const versions = Prisma.sql`json_build_array(json_build_object('app', ${input.app}::text, 'version', p.version))`;
    rows =
      count === 0
        ? []
        : count <= SPARSE_AS_OF
          ? await deps.db.$queryRaw<Row[]>(Prisma.sql`
            WITH page AS (${halves(
              (part) => Prisma.sql`
              SELECT DISTINCT ON (h.name, h.id) h.id, h.name, h.environment, h.retired_at, x.version
              FROM installed_version_history x JOIN ${part} h ON h.id = x.host_id
              WHERE x.app = ${input.app} AND ${live} AND ${where} AND ${seek}
              ORDER BY ${order}, x.valid_from DESC LIMIT ${limit}`,
            )})
            SELECT p.id, p.name, p.environment, p.retired_at, ${versions} AS versions FROM page p ORDER BY ${outer}`)
          : await deps.db.$queryRaw<Row[]>(Prisma.sql`
            WITH page AS (${halves(
              (part) => Prisma.sql`
              SELECT h.id, h.name, h.environment, h.retired_at, v.version
              FROM ${part} h CROSS JOIN LATERAL (
                SELECT x.version FROM installed_version_history x
                WHERE x.host_id = h.id AND x.app = ${input.app} AND ${live} ORDER BY x.valid_from DESC LIMIT 1
              ) v
              WHERE ${where} AND ${seek}
              ORDER BY ${order} LIMIT ${limit}`,
            )})
            SELECT p.id, p.name, p.environment, p.retired_at, ${versions} AS versions FROM page p ORDER BY ${outer}`);
    totalCount = count;
  } else {
    // All apps: the page of hosts, then each one's live periods by (host_id, app, valid_from); the
    // total of an unfiltered page from the counts (hosts-at-count.ts).
    const anyFilter = Object.values(input.filter ?? {}).some((v) => v !== undefined);
    rows = await deps.db.$queryRaw<Row[]>(Prisma.sql`
      WITH page AS (${halves(
        (part) =>
          Prisma.sql`SELECT h.id, h.name, h.environment, h.retired_at FROM ${part} h WHERE ${where} AND ${seek} ORDER BY ${order} LIMIT ${limit}`,
      )})
      SELECT p.id, p.name, p.environment, p.retired_at,
             (SELECT json_agg(json_build_object('app', x.app, 'version', x.version) ORDER BY x.app)
              FROM installed_version_history x WHERE x.host_id = p.id AND ${live}) AS versions,
             t.total
      FROM (${anyFilter ? Prisma.sql`SELECT count(*) AS total FROM ${hosts} h WHERE ${where}` : Prisma.sql`SELECT n AS total FROM (${hostsAtCountSql(at)}) c`}) t
      LEFT JOIN page p ON TRUE
      ORDER BY ${outer}`);
  }
  let page = rows.filter((r) => r.id !== null);
  const more = page.length > pageSize;
  page = page.slice(0, pageSize);
  if (back) page.reverse();
  const cursorOf = (r: Row) => encodeCursor({ s: "name", d: "asc", v: null, n: r.name, i: r.id! });
  const first = page[0];
  const last = page[page.length - 1];
  return {
    at,
    app: input.app ?? null,
    total: totalCount ?? Number(rows[0]?.total ?? 0),
    pageSize,
    nextCursor: last && (back || more) ? cursorOf(last) : null,
    prevCursor: first && (back ? more : !!input.after) ? cursorOf(first) : null,
    rows: page.map((r) => ({
      id: r.id!,
      name: r.name,
      environment: r.environment,
      retiredAt: r.retired_at,
      versions: r.versions ?? [],
    })),
  };
}
