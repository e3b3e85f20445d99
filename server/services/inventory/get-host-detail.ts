// One host: identity, facts, store disk use, every app with all installed versions (current and
// previous marked), its groups, and the latest timeline events — in one statement. With `at`, the
// versions are the ones the host had at that time (from history). A retired host (removed from
// the inventory) is found by id (or by name when no enrolled host has it): its last known facts,
// the versions it had just before it was retired (or at `at`), and its timeline.
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import type { HostConnectionRow, HostFactColumns, InventoryDeps } from "./types";

export type HostVersionRow = {
  app: string;
  version: string;
  kind: string;
  sizeBytes: number | null;
  receivedUuid: string | null;
  signer: string | null;
  installedAt: Date | null;
  isCurrent: boolean;
  isPrevious: boolean;
  since: Date;
};

type JsonVersion = Omit<HostVersionRow, "installedAt" | "since"> & {
  installedAt: string | null;
  since: string;
};
type JsonEvent = {
  id: string;
  at: string;
  kind: string;
  message: string;
  detail: unknown;
  actorId: string | null;
};

type HostRow = HostConnectionRow &
  HostFactColumns & {
    presentedKeyFingerprint: string | null;
    sudoMode: string;
    environment: string | null;
    labels: unknown;
    reachable: boolean | null;
    lastError: string | null;
    lastSeenAt: Date | null;
    lastRefreshAt: Date | null;
    facts: unknown;
    factsAt: Date | null;
    storeTotalBytes: bigint | null;
    storeUsedBytes: bigint | null;
    enrolledBy: string | null;
    createdAt: Date;
    retiredAt: Date | null;
    retiredBy: string | null;
    groups: { id: string; name: string }[];
    versions: JsonVersion[];
    events: JsonEvent[];
  };

const HISTORY_VERSIONS = (hostId: Prisma.Sql, at: Prisma.Sql) => Prisma.sql`
  SELECT app, version, kind, size_bytes AS "sizeBytes", received_uuid AS "receivedUuid", signer, NULL::timestamptz AS "installedAt",
         is_current AS "isCurrent", is_previous AS "isPrevious", valid_from AS since
  FROM installed_version_history
  WHERE host_id = ${hostId} AND valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})`;

const EVENTS = (hostId: Prisma.Sql, at: Date | undefined, limit: number) => Prisma.sql`
  SELECT id::text AS id, at, kind, message, detail, actor_id AS "actorId" FROM host_events
  WHERE host_id = ${hostId} ${at ? Prisma.sql`AND at <= ${at}` : Prisma.empty}
  ORDER BY at DESC, id DESC LIMIT ${limit}`;

const jsonList = (q: Prisma.Sql, order: string) =>
  Prisma.sql`COALESCE((SELECT json_agg(x ORDER BY ${Prisma.raw(order)}) FROM (${q}) x), '[]'::json)`;

export async function getHostDetail(
  deps: InventoryDeps,
  input: { id?: string; name?: string; at?: Date; eventLimit?: number },
) {
  if (!input.id && !input.name) throw new AppError("BAD_REQUEST", { message: "give a host id or name" });
  const limit = Math.min(input.eventLimit ?? 100, 1000);
  const at = input.at;
  const id = Prisma.sql`h.id`;
  const enrolled = await deps.db.$queryRaw<HostRow[]>(Prisma.sql`
    SELECT h.id, h.name, h.address, h.port, h."user", h.host_key_fingerprint AS "hostKeyFingerprint", h.host_key_changed AS "hostKeyChanged",
           h.presented_key_fingerprint AS "presentedKeyFingerprint", h.sudo_mode AS "sudoMode", h.environment, h.labels, h.reachable,
           h.last_error AS "lastError", h.last_seen_at AS "lastSeenAt", h.last_refresh_at AS "lastRefreshAt", h.facts, h.facts_at AS "factsAt",
           h.hostname, h.machine_id AS "machineId", h.os, h.kernel, h.arch, h.agent_version AS "agentVersion",
           h.store_total_bytes AS "storeTotalBytes", h.store_used_bytes AS "storeUsedBytes", h.enrolled_by AS "enrolledBy",
           h.created_at AS "createdAt", NULL::timestamptz AS "retiredAt", NULL::text AS "retiredBy",
           ${jsonList(Prisma.sql`SELECT g.id, g.name FROM host_group_members m JOIN host_groups g ON g.id = m.group_id WHERE m.host_id = ${id}`, "x.name")} AS groups,
           ${jsonList(
             at
               ? HISTORY_VERSIONS(id, Prisma.sql`${at}::timestamptz`)
               : Prisma.sql`SELECT app, version, kind, size_bytes AS "sizeBytes", received_uuid AS "receivedUuid", signer, installed_at AS "installedAt",
                                   is_current AS "isCurrent", is_previous AS "isPrevious",
                                   -- since its state (current, previous, installed) began: the open history period
                                   COALESCE((SELECT max(hv.valid_from) FROM installed_version_history hv
                                             WHERE hv.host_id = i.host_id AND hv.app = i.app AND hv.version = i.version AND hv.valid_to IS NULL),
                                            first_seen_at) AS since
                            FROM installed_versions i WHERE host_id = ${id}`,
             "x.app, x.version",
           )} AS versions,
           ${jsonList(EVENTS(id, at, limit), "x.at DESC, x.id::bigint DESC")} AS events
    FROM hosts h
    WHERE ${input.id ? Prisma.sql`h.id = ${input.id}::uuid` : Prisma.sql`h.name = ${input.name}`}`);
  let host = enrolled[0];
  if (!host) {
    // Retired: versions as of `at`, else as they were when it was retired (its periods end then).
    const rows = await deps.db.$queryRaw<HostRow[]>(Prisma.sql`
      SELECT h.id, h.name, h.address, h.port, h."user", h.host_key_fingerprint AS "hostKeyFingerprint", false AS "hostKeyChanged",
             NULL::text AS "presentedKeyFingerprint", 'none' AS "sudoMode", h.environment, h.labels, NULL::boolean AS reachable,
             NULL::text AS "lastError", h.last_seen_at AS "lastSeenAt", NULL::timestamptz AS "lastRefreshAt", h.facts, NULL::timestamptz AS "factsAt",
             h.hostname, h.machine_id AS "machineId", h.os, h.kernel, h.arch, h.agent_version AS "agentVersion",
             NULL::bigint AS "storeTotalBytes", NULL::bigint AS "storeUsedBytes", h.enrolled_by AS "enrolledBy",
             h.created_at AS "createdAt", h.retired_at AS "retiredAt",
             COALESCE((SELECT u.email FROM users u WHERE u.id = h.retired_by), h.retired_by) AS "retiredBy",
             '[]'::json AS groups,
             ${jsonList(HISTORY_VERSIONS(id, at ? Prisma.sql`${at}::timestamptz` : Prisma.sql`h.retired_at - interval '1 millisecond'`), "x.app, x.version")} AS versions,
             ${jsonList(EVENTS(id, at, limit), "x.at DESC, x.id::bigint DESC")} AS events
      FROM retired_hosts h
      WHERE ${input.id ? Prisma.sql`h.id = ${input.id}::uuid` : Prisma.sql`h.name = ${input.name}`}
      ORDER BY h.retired_at DESC LIMIT 1`);
    host = rows[0];
  }
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${input.id ?? input.name} is not enrolled` });

  const versions: HostVersionRow[] = host.versions.map((v) => ({
    ...v,
    installedAt: v.installedAt === null ? null : new Date(v.installedAt),
    since: new Date(v.since),
  }));
  const apps = new Map<
    string,
    { app: string; kind: string; current: string | null; previous: string | null; versions: HostVersionRow[] }
  >();
  for (const v of versions) {
    const a = apps.get(v.app) ?? { app: v.app, kind: v.kind, current: null, previous: null, versions: [] };
    if (v.isCurrent) a.current = v.version;
    if (v.isPrevious) a.previous = v.version;
    a.versions.push(v);
    apps.set(v.app, a);
  }
  const { groups, versions: _v, events, storeTotalBytes, storeUsedBytes, ...rest } = host;
  return {
    ...rest,
    labels: host.labels as Record<string, string>,
    storeTotalBytes: storeTotalBytes === null ? null : Number(storeTotalBytes),
    storeUsedBytes: storeUsedBytes === null ? null : Number(storeUsedBytes),
    groups,
    at: at ?? null,
    apps: [...apps.values()],
    events: events.map((e) => ({ ...e, at: new Date(e.at) })),
  };
}
