// Works out what a rollout would do to each target host — install, update, roll back or nothing;
// full stream or delta from which parent; bytes to send and disk needed — and the plan's digest,
// which every approval is bound to.
import { createHash } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { canonicalJson, runsAsRoot, type HealthCheck } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import { resolveHostFilter } from "@/server/services/inventory/host-filter-sql";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { addRootHooks } from "./root-hooks";
import { planStream, type StreamPlan } from "@/server/services/releases/plan-stream";
import { readHostFacts } from "./decision-facts";
import { resolveWaves, WaveSpecError } from "./resolve-waves";
import { planRuntimes } from "./plan-runtimes";
import type { PlanArtifact, PlanHost, RolloutPlan, TRolloutSpec } from "./types";

export const MAX_ROLLOUT_HOSTS = 10_000;

type TargetRow = {
  id: string;
  name: string;
  environment: string | null;
  labels: Record<string, string>;
  hostKeyChanged: boolean;
  reachable: boolean | null;
  lastError: string | null;
};
type Installed = { hostId: string; version: string; isCurrent: boolean; isPrevious: boolean };

export function planDigest(plan: RolloutPlan): string {
  return createHash("sha256").update(canonicalJson(plan)).digest("hex");
}

/**
 * `releases`: the console's release dependencies; with them, incremental streams the hosts need
 * and the console does not have yet are made now (`btrfs send -p` from its subvolumes, once per
 * pair, cached), so the plan — and the approval bound to it — shows the stream each host really
 * gets. Without them only cached incremental streams count.
 */
export async function planRollout(
  { db, releases }: { db: PrismaClient; releases?: ReleaseDeps },
  spec: TRolloutSpec,
  policyVersion: number,
): Promise<{ plan: RolloutPlan; digest: string; targets: TargetRow[] }> {
  const where = await resolveHostFilter(db, spec.targets);
  const targets = await db.$queryRaw<TargetRow[]>(
    Prisma.sql`SELECT h.id::text AS id, h.name, h.environment, h.labels, h.host_key_changed AS "hostKeyChanged", h.reachable, h.last_error AS "lastError" FROM hosts h WHERE ${where} ORDER BY h.name LIMIT ${MAX_ROLLOUT_HOSTS + 1}`,
  );
  if (targets.length === 0)
    throw new AppError("BAD_REQUEST", {
      message: "the targets select no host: check the filter, group or host list",
    });
  if (targets.length > MAX_ROLLOUT_HOSTS)
    throw new AppError("BAD_REQUEST", {
      message: `a rollout takes at most ${MAX_ROLLOUT_HOSTS} hosts; split it`,
    });

  const installed = await db.installedVersion.findMany({
    where: { app: spec.app, hostId: { in: targets.map((t) => t.id) } },
    select: { hostId: true, version: true, isCurrent: true, isPrevious: true },
  });
  const byHost = new Map<string, Installed[]>();
  for (const row of installed) byHost.set(row.hostId, [...(byHost.get(row.hostId) ?? []), row]);

  const facts = await readHostFacts(
    db,
    targets.map((t) => t.id),
  );

  let release: {
    id: string;
    kind: string;
    streamBytes: bigint;
    treeBytes: bigint;
    streamDigest: string;
    manifest: string;
  } | null = null;
  if (spec.action === "update") {
    release = await db.release.findUnique({
      where: { app_version: { app: spec.app, version: spec.version! } },
      select: {
        id: true,
        kind: true,
        streamBytes: true,
        treeBytes: true,
        streamDigest: true,
        manifest: true,
      },
    });
    if (!release)
      throw new AppError("NOT_FOUND", {
        message: `release ${spec.app} ${spec.version} does not exist: push or build it first`,
      });
  }
  // The releases planner picks the stream; hosts holding the same versions share one answer.
  const streams = new Map<string, StreamPlan>();
  for (const t of targets) {
    const held = (byHost.get(t.id) ?? []).map((r) => r.version).sort();
    const key = held.join("\n");
    if (spec.action === "update" && !streams.has(key))
      streams.set(
        key,
        await planStream({
          db,
          hostVersions: held,
          app: spec.app,
          version: spec.version!,
          producer: releases,
        }),
      );
  }

  // The exact blob each stream is: the plan names it, so approvals cover the bytes that are sent.
  const artifacts = await streamArtifacts(db, release, [...streams.values()]);

  /** A host step that sends nothing (in the plan's key order: stream, parent, bytes, diskNeeded). */
  const NOTHING_SENT = { stream: "none", parent: null, bytes: 0, diskNeeded: 0 } as const;
  const direct: Omit<PlanHost, "wave">[] = targets.map((t) => {
    const rows = byHost.get(t.id) ?? [];
    const current = rows.find((r) => r.isCurrent)?.version ?? null;
    const previous = rows.find((r) => r.isPrevious)?.version ?? null;
    const f = facts.get(t.id) ?? { environment: t.environment, labels: t.labels ?? {}, groups: [] };
    const base = {
      hostId: t.id,
      name: t.name,
      environment: f.environment,
      labels: f.labels,
      groups: f.groups,
      from: current,
    };
    // Hosts the console cannot talk to are left out and marked, so nobody approves work that cannot run.
    if (t.hostKeyChanged)
      return {
        ...base,
        action: "nothing",
        to: current,
        ...NOTHING_SENT,
        excluded: "key-changed",
        note: "left out: its host key changed; re-pin it (host page or `keel hosts repin`) and plan again",
      };
    if (t.reachable === false && !spec.includeUnreachable)
      return {
        ...base,
        action: "nothing",
        to: current,
        ...NOTHING_SENT,
        excluded: "unreachable",
        note: `left out: unreachable at its last refresh (${t.lastError ?? "no answer"}); include unreachable hosts to try it anyway`,
      };
    if (spec.action === "rollback") {
      if (!previous)
        return {
          ...base,
          action: "nothing",
          to: current,
          ...NOTHING_SENT,
          note: "no previous version to roll back to",
        };
      return {
        ...base,
        action: "rollback",
        to: previous,
        ...NOTHING_SENT,
      };
    }
    const version = spec.version!;
    if (current === version)
      return {
        ...base,
        action: "nothing",
        to: version,
        ...NOTHING_SENT,
        note: "already current",
      };
    // Already received (e.g. a rollback moved off it): activating sends nothing.
    const received = rows.some((r) => r.version === version);
    const s = received
      ? null
      : streams.get(
          rows
            .map((r) => r.version)
            .sort()
            .join("\n"),
        )!;
    if (!s || s.kind === "none")
      return {
        ...base,
        action: "update",
        to: version,
        ...NOTHING_SENT,
        note: "already on the host",
      };
    const stream = s.kind === "delta" ? ("delta" as const) : ("full" as const);
    return {
      ...base,
      ...(s.kind === "full" && s.reason ? { note: `full stream: ${s.reason}` } : {}),
      action: current ? "update" : "install",
      to: version,
      stream,
      parent: s.kind === "delta" ? s.parent : null,
      bytes: s.bytes,
      artifact: artifacts.get(s.kind === "delta" ? s.deltaId : "full")!,
      // A full receive needs the whole tree; a delta shares unchanged extents, so its stream bounds it.
      diskNeeded:
        stream === "full" ? Number(release!.treeBytes) : s.kind === "delta" ? s.streamBytes : s.bytes,
    };
  });

  // Runtimes the release requires go in before it; a runtime's own rollout lists the apps it affects.
  const runtimes = await planRuntimes({ db, releases }, spec, release, direct, streamArtifacts);
  const hosts = runtimes.hosts;
  const working = hosts.filter((h) => h.action !== "nothing");
  let sizes: number[];
  try {
    sizes = working.length ? resolveWaves(spec.waves, working.length) : [];
  } catch (e) {
    if (e instanceof WaveSpecError) throw new AppError("BAD_REQUEST", { message: e.message });
    throw e;
  }
  const waveOf: number[] = sizes.flatMap((n, i) => Array<number>(n).fill(i));
  let k = 0;
  const planned: PlanHost[] = hosts.map((h) => ({ ...h, wave: h.action === "nothing" ? -1 : waveOf[k++]! }));

  const count = (a: PlanHost["action"]) => planned.filter((h) => h.action === a).length;
  const plan: RolloutPlan = {
    action: spec.action,
    app: spec.app,
    version: spec.version ?? null,
    policyVersion,
    waves: sizes,
    failureThreshold: spec.failureThreshold,
    parallelism: spec.parallelism,
    hosts: planned,
    totals: {
      hosts: planned.length,
      install: count("install"),
      update: count("update"),
      rollback: count("rollback"),
      nothing: count("nothing"),
      bytes: planned.reduce((s, h) => s + h.bytes, 0),
      diskNeeded: planned.reduce((s, h) => s + h.diskNeeded, 0),
    },
    ...(runtimes.kind ? { kind: runtimes.kind, affects: runtimes.affects } : {}),
  };
  // Every host the update reaches runs the release's health check after activation.
  const check = release
    ? (JSON.parse(release.manifest) as { healthCheck?: HealthCheck }).healthCheck
    : undefined;
  const reached = planned.filter((h) => h.action === "install" || h.action === "update").length;
  if (runsAsRoot(check) && reached > 0) plan.rootCommands = { commands: ["health check"], hosts: reached };
  await addRootHooks(db, plan, planned);
  return { plan, digest: planDigest(plan), targets };
}

/** The blob of each stream: the release's full stream, or the delta's encoded (else raw) stream. */
async function streamArtifacts(
  db: PrismaClient,
  release: { id: string; streamBytes: bigint; streamDigest: string } | null,
  plans: StreamPlan[],
): Promise<Map<string, PlanArtifact>> {
  const out = new Map<string, PlanArtifact>();
  if (!release) return out;
  out.set("full", {
    releaseId: release.id,
    kind: "full",
    parent: null,
    digest: release.streamDigest,
    bytes: Number(release.streamBytes),
    encoding: "raw",
  });
  const deltas = plans.flatMap((p) => (p.kind === "delta" ? [p] : []));
  if (deltas.length === 0) return out;
  const rows = await db.releaseDelta.findMany({
    where: { id: { in: deltas.map((d) => d.deltaId) } },
    select: { id: true, streamDigest: true, streamBytes: true, encodedDigest: true, encodedBytes: true },
  });
  for (const d of deltas) {
    const row = rows.find((r) => r.id === d.deltaId);
    if (!row)
      throw new AppError("CONFLICT", {
        message: `the incremental stream from ${d.parent} was removed while planning; plan again`,
      });
    out.set(d.deltaId, {
      releaseId: release.id,
      kind: "delta",
      parent: d.parent,
      digest: row.encodedDigest ?? row.streamDigest,
      bytes: Number(row.encodedDigest ? row.encodedBytes : row.streamBytes),
      encoding: row.encodedDigest ? "keel-delta-1" : "raw",
    });
  }
  return out;
}
