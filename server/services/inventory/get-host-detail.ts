// One host: identity, facts, store disk use, every app with all installed versions (current and
// previous marked), its groups, and the latest timeline events. With `at`, the versions are the
// ones the host had at that time (from history).
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import type { InventoryDeps } from "./types";

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

export async function getHostDetail(deps: InventoryDeps, input: { id?: string; name?: string; at?: Date; eventLimit?: number }) {
  if (!input.id && !input.name) throw new AppError("BAD_REQUEST", { message: "give a host id or name" });
  const host = await deps.db.host.findUnique({
    where: input.id ? { id: input.id } : { name: input.name! },
    select: {
      id: true,
      name: true,
      address: true,
      port: true,
      user: true,
      hostKeyFingerprint: true,
      hostKeyChanged: true,
      presentedKeyFingerprint: true,
      sudoMode: true,
      environment: true,
      labels: true,
      reachable: true,
      lastError: true,
      lastSeenAt: true,
      lastRefreshAt: true,
      facts: true,
      factsAt: true,
      hostname: true,
      machineId: true,
      os: true,
      kernel: true,
      arch: true,
      agentVersion: true,
      storeTotalBytes: true,
      storeUsedBytes: true,
      enrolledBy: true,
      createdAt: true,
      groupMemberships: { select: { group: { select: { id: true, name: true } } } },
    } satisfies Prisma.HostSelect,
  });
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${input.id ?? input.name} is not enrolled` });

  let versions: HostVersionRow[];
  if (input.at) {
    const rows = await deps.db.$queryRaw<(Omit<HostVersionRow, "sizeBytes" | "installedAt"> & { sizeBytes: bigint | null })[]>(Prisma.sql`
      SELECT app, version, kind, size_bytes AS "sizeBytes", received_uuid AS "receivedUuid", signer,
             is_current AS "isCurrent", is_previous AS "isPrevious", valid_from AS since
      FROM installed_version_history
      WHERE host_id = ${host.id}::uuid AND valid_from <= ${input.at} AND (valid_to IS NULL OR valid_to > ${input.at})
      ORDER BY app, version`);
    versions = rows.map((r) => ({ ...r, sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes), installedAt: null }));
  } else {
    const rows = await deps.db.installedVersion.findMany({ where: { hostId: host.id }, orderBy: [{ app: "asc" }, { version: "asc" }] });
    versions = rows.map((r) => ({
      app: r.app,
      version: r.version,
      kind: r.kind,
      sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes),
      receivedUuid: r.receivedUuid,
      signer: r.signer,
      installedAt: r.installedAt,
      isCurrent: r.isCurrent,
      isPrevious: r.isPrevious,
      since: r.firstSeenAt,
    }));
  }
  const apps = new Map<string, { app: string; kind: string; current: string | null; previous: string | null; versions: HostVersionRow[] }>();
  for (const v of versions) {
    const a = apps.get(v.app) ?? { app: v.app, kind: v.kind, current: null, previous: null, versions: [] };
    if (v.isCurrent) a.current = v.version;
    if (v.isPrevious) a.previous = v.version;
    a.versions.push(v);
    apps.set(v.app, a);
  }
  const events = await deps.db.hostEvent.findMany({
    where: { hostId: host.id, ...(input.at ? { at: { lte: input.at } } : {}) },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: Math.min(input.eventLimit ?? 100, 1000),
    select: { id: true, at: true, kind: true, message: true, detail: true, actorId: true },
  });
  const { groupMemberships, storeTotalBytes, storeUsedBytes, ...rest } = host;
  return {
    ...rest,
    labels: host.labels as Record<string, string>,
    storeTotalBytes: storeTotalBytes === null ? null : Number(storeTotalBytes),
    storeUsedBytes: storeUsedBytes === null ? null : Number(storeUsedBytes),
    groups: groupMemberships.map((m) => m.group),
    at: input.at ?? null,
    apps: [...apps.values()],
    events: events.map((e) => ({ ...e, id: e.id.toString() })),
  };
}
