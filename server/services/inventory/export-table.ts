// CSV export of every inventory table the console shows, with the same filters as the screen.
// Exports are bounded (EXPORT_MAX_ROWS) so one click cannot pin the server.
import { getDriftReport } from "./get-drift-report";
import { getHostDetail } from "./get-host-detail";
import { getHostsAsOf } from "./get-hosts-as-of";
import { getVersionDistribution } from "./get-version-distribution";
import { listApps } from "./list-apps";
import { listHosts } from "./list-hosts";
import { listStaleHosts } from "./list-stale-hosts";
import { toCsv, type CsvCell } from "./to-csv";
import type { HostSortKey, InventoryDeps, THostFilter } from "./types";

export const EXPORT_MAX_ROWS = 50_000;

export type ExportRequest =
  | { table: "hosts"; filter?: THostFilter; sort?: HostSortKey; direction?: "asc" | "desc" }
  | { table: "stale"; olderThanMs?: number; filter?: THostFilter }
  | { table: "apps" }
  | { table: "distribution"; app: string; at?: Date; filter?: THostFilter }
  | { table: "drift"; app?: string }
  | { table: "as-of"; at: Date; app?: string; filter?: THostFilter }
  | { table: "timeline"; hostId: string };

/** Every page, following the keyset cursors (each page costs the same wherever it is). */
async function allPages<T>(
  fetch: (after: string | undefined, pageSize: number) => Promise<{ rows: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  while (out.length < EXPORT_MAX_ROWS) {
    const r = await fetch(after, 500);
    out.push(...r.rows);
    if (!r.nextCursor) break;
    after = r.nextCursor;
  }
  return out.slice(0, EXPORT_MAX_ROWS);
}

const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

export async function exportTable(
  deps: InventoryDeps,
  req: ExportRequest,
): Promise<{ filename: string; csv: string }> {
  const hostHeader = [
    "name",
    "address",
    "port",
    "user",
    "environment",
    "labels",
    "reachable",
    "os",
    "kernel",
    "arch",
    "agent",
    "apps",
    "last_seen",
    "last_refresh",
    "last_error",
  ];
  const hostRow = (h: Awaited<ReturnType<typeof listHosts>>["rows"][number]): CsvCell[] => [
    h.name,
    h.address,
    h.port,
    h.user,
    h.environment,
    labelText(h.labels),
    h.reachable,
    h.os,
    h.kernel,
    h.arch,
    h.agentVersion,
    h.appCount,
    h.lastSeenAt,
    h.lastRefreshAt,
    h.lastError,
  ];
  switch (req.table) {
    case "hosts": {
      const rows = await allPages((after, pageSize) =>
        listHosts(deps, { filter: req.filter, sort: req.sort, direction: req.direction, after, pageSize }),
      );
      return { filename: "hosts.csv", csv: toCsv(hostHeader, rows.map(hostRow)) };
    }
    case "stale": {
      const rows = await allPages((after, pageSize) =>
        listStaleHosts(deps, { olderThanMs: req.olderThanMs, filter: req.filter, after, pageSize }),
      );
      return { filename: "hosts-not-seen.csv", csv: toCsv(hostHeader, rows.map(hostRow)) };
    }
    case "apps": {
      const rows = await listApps(deps);
      return {
        filename: "apps.csv",
        csv: toCsv(
          ["app", "hosts", "versions"],
          rows.map((r) => [r.app, r.hosts, r.versions]),
        ),
      };
    }
    case "distribution": {
      const d = await getVersionDistribution(deps, req);
      const rows: CsvCell[][] = d.versions.map((v) => [d.app, v.version, v.hosts]);
      rows.push([d.app, "(not installed)", d.withoutApp]);
      return { filename: `${d.app}-versions.csv`, csv: toCsv(["app", "version", "hosts"], rows) };
    }
    case "drift": {
      const rows = await getDriftReport(deps, { app: req.app });
      return {
        filename: "drift.csv",
        csv: toCsv(
          ["app", "scope", "target", "hosts", "on_target", "behind", "ahead", "missing"],
          rows.map((r) => [
            r.app,
            r.scopeName,
            r.targetVersion,
            r.hosts,
            r.onTarget,
            r.behind,
            r.ahead,
            r.missing,
          ]),
        ),
      };
    }
    case "as-of": {
      const rows = await allPages((after, pageSize) =>
        getHostsAsOf(deps, { at: req.at, app: req.app, filter: req.filter, after, pageSize }),
      );
      return {
        filename: `as-of-${req.at.toISOString().slice(0, 19).replace(/:/g, "")}.csv`,
        csv: toCsv(
          ["host", "environment", "app", "version"],
          rows.flatMap((h) =>
            h.versions.length
              ? h.versions.map((v) => [h.name, h.environment, v.app, v.version])
              : [[h.name, h.environment, "", ""]],
          ),
        ),
      };
    }
    case "timeline": {
      const d = await getHostDetail(deps, { id: req.hostId, eventLimit: 1000 });
      return {
        filename: `${d.name}-timeline.csv`,
        csv: toCsv(
          ["at", "kind", "message", "actor"],
          d.events.map((e) => [e.at, e.kind, e.message, e.actorId]),
        ),
      };
    }
  }
}
