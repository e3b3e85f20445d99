// Stores the facts a refresh collected: the host's snapshot columns, the current installed
// versions, and — for everything that changed — closed/opened validity periods in
// installed_version_history plus timeline events. Runs in one transaction under a row lock on the
// host, so two refreshes of the same host cannot interleave: two round trips (lock and read, then
// every write in one statement).
import { Prisma } from "@prisma/client";
import type { Sql, SqlClient } from "@/server/db";
import { AppError } from "@/server/errors";
import { now, type CollectedFacts, type InventoryDeps } from "./types";

type VersionState = {
  app: string;
  version: string;
  kind: string;
  sizeBytes: bigint | null;
  receivedUuid: string | null;
  signer: string | null;
  installedAt: Date | null;
  isCurrent: boolean;
  isPrevious: boolean;
};

const key = (v: { app: string; version: string }) => `${v.app}\u0000${v.version}`;

/** The facts compared for a `facts.changed` event (disk use changes all the time and is not an event). */
const TRACKED_FACTS = [
  "hostname",
  "machineId",
  "os",
  "kernel",
  "arch",
  "agentVersion",
  "cpuCount",
  "memoryBytes",
] as const;

function desiredVersions(facts: CollectedFacts): Map<string, VersionState> {
  const out = new Map<string, VersionState>();
  for (const a of facts.apps) {
    for (const v of a.versions) {
      const created = v.createdAt ? new Date(v.createdAt) : null;
      const s: VersionState = {
        app: a.app,
        version: v.version,
        kind: a.kind,
        sizeBytes: v.sizeBytes === null ? null : BigInt(Math.round(v.sizeBytes)),
        receivedUuid: v.receivedUuid,
        signer: v.signer,
        installedAt: created && !Number.isNaN(created.getTime()) ? created : null,
        isCurrent: a.current === v.version,
        isPrevious: a.previous === v.version,
      };
      out.set(key(s), s);
    }
  }
  return out;
}

const sameState = (a: VersionState, b: VersionState) =>
  a.kind === b.kind &&
  a.sizeBytes === b.sizeBytes &&
  a.receivedUuid === b.receivedUuid &&
  a.signer === b.signer &&
  a.isCurrent === b.isCurrent &&
  a.isPrevious === b.isPrevious;

export type RecordFactsResult = { changed: boolean; events: { kind: string; message: string }[] };

/** Records in its own transaction, or in the caller's (a rollout step's final writes) when given one. */
export async function recordFacts(
  deps: { db: SqlClient | Sql; clock?: InventoryDeps["clock"] },
  hostId: string,
  facts: CollectedFacts,
): Promise<RecordFactsResult> {
  const at = now(deps);
  const db = deps.db;
  if ("$transaction" in db) return db.$transaction((tx) => write(tx, at, hostId, facts));
  return write(db, at, hostId, facts);
}

/** The versions as the write compares them, read with a host row (json: sizes as text). */
const VERSIONS_JSON = Prisma.sql`COALESCE((
  SELECT json_agg(json_build_object('app', app, 'version', version, 'kind', kind, 'sizeBytes', size_bytes::text,
    'receivedUuid', received_uuid, 'signer', signer, 'installedAt', installed_at, 'isCurrent', is_current,
    'isPrevious', is_previous) ORDER BY app, version)
  FROM installed_versions WHERE host_id = h.id), '[]'::json)`;

type StoredVersion = Omit<VersionState, "sizeBytes" | "installedAt"> & {
  sizeBytes: string | null;
  installedAt: string | null;
};

/**
 * Locks the host row and reads its facts and current versions in one round trip. The versions are
 * read with the statement's snapshot, taken before the lock was granted: if another write of this
 * host committed while we waited (the locked row is then newer than the one that snapshot sees),
 * they are read again, after the lock. Every writer of a host's versions updates its row.
 */
async function lockHost(tx: Sql, hostId: string) {
  const [host] = await tx.$queryRaw<
    { reachable: boolean | null; facts: unknown; fresh: boolean; versions: StoredVersion[] }[]
  >(Prisma.sql`
    SELECT h.reachable, h.facts, h.xmin::text = (SELECT s.xmin::text FROM hosts s WHERE s.id = h.id) AS fresh,
      ${VERSIONS_JSON} AS versions
    FROM hosts h WHERE h.id = ${hostId}::uuid FOR UPDATE OF h`);
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${hostId} is no longer enrolled` });
  let versions = host.versions;
  if (!host.fresh) {
    const [again] = await tx.$queryRaw<{ versions: StoredVersion[] }[]>(Prisma.sql`
      SELECT ${VERSIONS_JSON} AS versions FROM hosts h WHERE h.id = ${hostId}::uuid`);
    versions = again!.versions;
  }
  const old = new Map<string, VersionState>();
  for (const v of versions)
    old.set(key(v), {
      ...v,
      sizeBytes: v.sizeBytes === null ? null : BigInt(v.sizeBytes),
      installedAt: v.installedAt === null ? null : new Date(v.installedAt),
    });
  return { reachable: host.reachable, facts: host.facts, old };
}

async function write(tx: Sql, at: Date, hostId: string, facts: CollectedFacts): Promise<RecordFactsResult> {
  const host = await lockHost(tx, hostId);
  const old = host.old;
  const next = desiredVersions(facts);
  const events: { kind: string; message: string; detail?: Prisma.InputJsonValue }[] = [];

  const removed = [...old.values()].filter((o) => !next.has(key(o)));
  const added = [...next.values()].filter((n) => !old.has(key(n)));
  const changed = [...next.values()].filter((n) => {
    const o = old.get(key(n));
    return o !== undefined && !sameState(o, n);
  });

  // One event per kind of change, naming app and version, for the host timeline.
  for (const v of added)
    events.push({
      kind: "version.installed",
      message: `${v.app} ${v.version} installed`,
      detail: { app: v.app, version: v.version },
    });
  for (const v of removed)
    events.push({
      kind: "version.removed",
      message: `${v.app} ${v.version} removed`,
      detail: { app: v.app, version: v.version },
    });
  const currentOf = (m: Map<string, VersionState>) => {
    const c = new Map<string, string>();
    for (const v of m.values()) if (v.isCurrent) c.set(v.app, v.version);
    return c;
  };
  const oldCurrent = currentOf(old);
  const newCurrent = currentOf(next);
  for (const app of new Set([...oldCurrent.keys(), ...newCurrent.keys()])) {
    const from = oldCurrent.get(app) ?? null;
    const to = newCurrent.get(app) ?? null;
    if (from === to) continue;
    events.push({
      kind: "version.activated",
      message: to
        ? `${app} current ${from ?? "(none)"} → ${to}`
        : `${app} has no current version (was ${from})`,
      detail: { app, from, to },
    });
  }

  const snapshot = {
    hostname: facts.hostname,
    machineId: facts.machineId,
    os: facts.os,
    kernel: facts.kernel,
    arch: facts.arch,
    agentVersion: facts.agentVersion,
    cpuCount: facts.cpuCount,
    cpuModel: facts.cpuModel,
    memoryBytes: facts.memoryBytes,
    store: facts.store,
  };
  const prev = (host.facts ?? null) as Record<string, unknown> | null;
  if (prev) {
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const k of TRACKED_FACTS)
      if ((prev[k] ?? null) !== (snapshot[k] ?? null))
        diff[k] = { from: prev[k] ?? null, to: snapshot[k] ?? null };
    if (Object.keys(diff).length)
      events.push({
        kind: "facts.changed",
        message: Object.entries(diff)
          .map(([k, d]) => `${k} ${String(d.from)} → ${String(d.to)}`)
          .join(", "),
        detail: diff as Prisma.InputJsonValue,
      });
  }
  if (host.reachable === false) events.push({ kind: "host.reachable", message: "answering again" });

  // All the writes in one statement (data-modifying CTEs; each touches rows no other one does), as
  // statement-by-statement before: close the open history period of everything removed or changed,
  // open one for added/changed, delete/insert/update the current versions, the host's snapshot,
  // the timeline events in order. An empty list writes nothing (its CTE matches no row).
  const asJson = (vs: VersionState[]) =>
    JSON.stringify(
      vs.map((v) => ({ ...v, sizeBytes: v.sizeBytes === null ? null : v.sizeBytes.toString() })),
    );
  const RECORD = Prisma.sql`v(app text, version text, kind text, "sizeBytes" bigint, "receivedUuid" text, signer text, "installedAt" timestamptz, "isCurrent" boolean, "isPrevious" boolean)`;
  const rows = (vs: VersionState[]) => Prisma.sql`jsonb_to_recordset(${asJson(vs)}::jsonb) AS ${RECORD}`;
  const total = facts.store?.totalBytes == null ? null : BigInt(facts.store.totalBytes);
  const used = facts.store?.usedBytes == null ? null : BigInt(facts.store.usedBytes);
  await tx.$executeRaw(Prisma.sql`
    WITH closed AS (
      UPDATE installed_version_history h SET valid_to = ${at} FROM ${rows([...removed, ...changed])}
      WHERE h.host_id = ${hostId}::uuid AND h.app = v.app AND h.version = v.version AND h.valid_to IS NULL),
    opened AS (
      INSERT INTO installed_version_history (host_id, app, version, kind, size_bytes, received_uuid, signer, is_current, is_previous, valid_from)
      SELECT ${hostId}::uuid, v.app, v.version, v.kind, v."sizeBytes", v."receivedUuid", v.signer, v."isCurrent", v."isPrevious", ${at}
      FROM ${rows([...added, ...changed])}),
    deleted AS (
      DELETE FROM installed_versions i USING ${rows(removed)}
      WHERE i.host_id = ${hostId}::uuid AND i.app = v.app AND i.version = v.version),
    inserted AS (
      INSERT INTO installed_versions (host_id, app, version, kind, size_bytes, received_uuid, signer, installed_at, is_current, is_previous, first_seen_at)
      SELECT ${hostId}::uuid, v.app, v.version, v.kind, v."sizeBytes", v."receivedUuid", v.signer, v."installedAt", v."isCurrent", v."isPrevious", ${at}
      FROM ${rows(added)}),
    updated AS (
      UPDATE installed_versions i SET kind = v.kind, size_bytes = v."sizeBytes", received_uuid = v."receivedUuid", signer = v.signer,
        installed_at = v."installedAt", is_current = v."isCurrent", is_previous = v."isPrevious"
      FROM ${rows(changed)}
      WHERE i.host_id = ${hostId}::uuid AND i.app = v.app AND i.version = v.version),
    snapshot AS (
      UPDATE hosts SET facts = ${JSON.stringify({ ...snapshot, raw: facts.raw ?? null })}::jsonb, facts_at = ${at},
        hostname = ${facts.hostname}, machine_id = ${facts.machineId}, os = ${facts.os}, kernel = ${facts.kernel}, arch = ${facts.arch},
        agent_version = ${facts.agentVersion}, store_total_bytes = ${total}, store_used_bytes = ${used},
        reachable = true, last_error = NULL, last_seen_at = ${at}, last_refresh_at = ${at}, updated_at = ${new Date()}
      WHERE id = ${hostId}::uuid)
    INSERT INTO host_events (host_id, at, kind, message, detail)
    SELECT ${hostId}::uuid, ${at}, e->>'kind', e->>'message', e->'detail'
    FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n`);
  return {
    changed:
      removed.length + added.length + changed.length > 0 || events.some((e) => e.kind === "facts.changed"),
    events: events.map(({ kind, message }) => ({ kind, message })),
  };
}
