// Stores the facts a refresh collected: the host's snapshot columns, the current installed
// versions, and — for everything that changed — closed/opened validity periods in
// installed_version_history plus timeline events. Runs in one transaction under a row lock on the
// host, so two refreshes of the same host cannot interleave.
import { Prisma } from "@prisma/client";
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
const TRACKED_FACTS = ["hostname", "machineId", "os", "kernel", "arch", "agentVersion", "cpuCount", "memoryBytes"] as const;

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
export async function recordFacts(deps: InventoryDeps | { db: Prisma.TransactionClient; clock?: InventoryDeps["clock"] }, hostId: string, facts: CollectedFacts): Promise<RecordFactsResult> {
  const at = now(deps);
  const db = deps.db;
  if ("$transaction" in db) return db.$transaction((tx) => write(tx, at, hostId, facts));
  return write(db, at, hostId, facts);
}

async function write(tx: Prisma.TransactionClient, at: Date, hostId: string, facts: CollectedFacts): Promise<RecordFactsResult> {
  const locked = await tx.$queryRaw<{ id: string; reachable: boolean | null; facts: unknown }[]>(
    Prisma.sql`SELECT id, reachable, facts FROM hosts WHERE id = ${hostId}::uuid FOR UPDATE`,
  );
  const host = locked[0];
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${hostId} is no longer enrolled` });

  const old = new Map<string, VersionState>();
  for (const r of await tx.installedVersion.findMany({ where: { hostId } })) old.set(key(r), r);
  const next = desiredVersions(facts);
  const events: { kind: string; message: string; detail?: Prisma.InputJsonValue }[] = [];

  const removed = [...old.values()].filter((o) => !next.has(key(o)));
  const added = [...next.values()].filter((n) => !old.has(key(n)));
  const changed = [...next.values()].filter((n) => {
    const o = old.get(key(n));
    return o !== undefined && !sameState(o, n);
  });

  // Close the open history period of everything removed or changed, open one for added/changed.
  for (const v of [...removed, ...changed])
    await tx.installedVersionHistory.updateMany({
      where: { hostId, app: v.app, version: v.version, validTo: null },
      data: { validTo: at },
    });
  if (added.length + changed.length > 0)
    await tx.installedVersionHistory.createMany({
      data: [...added, ...changed].map((v) => ({
        hostId,
        app: v.app,
        version: v.version,
        kind: v.kind,
        sizeBytes: v.sizeBytes,
        receivedUuid: v.receivedUuid,
        signer: v.signer,
        isCurrent: v.isCurrent,
        isPrevious: v.isPrevious,
        validFrom: at,
      })),
    });

  if (removed.length)
    await tx.installedVersion.deleteMany({
      where: { hostId, OR: removed.map((v) => ({ app: v.app, version: v.version })) },
    });
  if (added.length) await tx.installedVersion.createMany({ data: added.map((v) => ({ hostId, ...v, firstSeenAt: at })) });
  for (const v of changed) {
    const { app, version, ...rest } = v;
    await tx.installedVersion.update({ where: { hostId_app_version: { hostId, app, version } }, data: rest });
  }

  // One event per kind of change, naming app and version, for the host timeline.
  for (const v of added) events.push({ kind: "version.installed", message: `${v.app} ${v.version} installed`, detail: { app: v.app, version: v.version } });
  for (const v of removed) events.push({ kind: "version.removed", message: `${v.app} ${v.version} removed`, detail: { app: v.app, version: v.version } });
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
      message: to ? `${app} current ${from ?? "(none)"} → ${to}` : `${app} has no current version (was ${from})`,
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
    for (const k of TRACKED_FACTS) if ((prev[k] ?? null) !== (snapshot[k] ?? null)) diff[k] = { from: prev[k] ?? null, to: snapshot[k] ?? null };
    if (Object.keys(diff).length)
      events.push({
        kind: "facts.changed",
        message: Object.entries(diff).map(([k, d]) => `${k} ${String(d.from)} → ${String(d.to)}`).join(", "),
        detail: diff as Prisma.InputJsonValue,
      });
  }
  if (host.reachable === false) events.push({ kind: "host.reachable", message: "answering again" });

  await tx.host.update({
    where: { id: hostId },
    data: {
      facts: { ...snapshot, raw: facts.raw ?? null } as Prisma.InputJsonValue,
      factsAt: at,
      hostname: facts.hostname,
      machineId: facts.machineId,
      os: facts.os,
      kernel: facts.kernel,
      arch: facts.arch,
      agentVersion: facts.agentVersion,
      storeTotalBytes: facts.store?.totalBytes == null ? null : BigInt(facts.store.totalBytes),
      storeUsedBytes: facts.store?.usedBytes == null ? null : BigInt(facts.store.usedBytes),
      reachable: true,
      lastError: null,
      lastSeenAt: at,
      lastRefreshAt: at,
    },
  });
  if (events.length) await tx.hostEvent.createMany({ data: events.map((e) => ({ hostId, at, ...e })) });
  return {
    changed: removed.length + added.length + changed.length > 0 || events.some((e) => e.kind === "facts.changed"),
    events: events.map(({ kind, message }) => ({ kind, message })),
  };
}
