// Runtimes in a rollout's plan (decision 0023). An app whose signed manifest requires runtimes gets,
// on each host whose current runtime does not satisfy the range, the newest runtime release that
// satisfies it and every other installed app's range on that host — in the same plan, before the
// app. A requirement nothing can satisfy refuses the plan, naming host, app, runtime, range and what
// is available. A runtime update or rollback that would leave an installed app outside its range is
// refused (REQUIREMENT_UNMET); otherwise its plan lists the apps it affects.
import { Prisma, type PrismaClient } from "@prisma/client";
import { compareVersions, satisfies, type RuntimeRequirement } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { planStream } from "@/server/services/releases/plan-stream";
import type { PlanArtifact, PlanHost, PlanRuntime, RuntimeUse, TRolloutSpec } from "./types";

type Host = Omit<PlanHost, "wave">;
type ReleaseRow = {
  id: string;
  streamBytes: bigint;
  treeBytes: bigint;
  streamDigest: string;
  manifest: string;
};
type StreamArtifacts = (
  db: PrismaClient,
  release: ReleaseRow,
  plans: Awaited<ReturnType<typeof planStream>>[],
) => Promise<Map<string, PlanArtifact>>;
type AppNeed = { hostId: string; app: string; version: string; req: RuntimeRequirement };

const MAX_LISTED = 10;
const requiresOf = (manifest: string): RuntimeRequirement[] =>
  (JSON.parse(manifest) as { requires?: RuntimeRequirement[] }).requires ?? [];
const working = (h: Host) => h.action !== "nothing";

function refuse(problems: string[], code: "BAD_REQUEST" | "REQUIREMENT_UNMET", what: string): never {
  const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more host(s)` : "";
  throw new AppError(code, { message: `${what}: ${problems.slice(0, MAX_LISTED).join("; ")}${more}` });
}

/** What each host's current app versions require (as their releases on the console declare). */
async function installedNeeds(db: PrismaClient, hostIds: string[], runtime?: string): Promise<AppNeed[]> {
  if (hostIds.length === 0) return [];
  const rows = await db.$queryRaw<
    { hostId: string; app: string; version: string; manifest: string }[]
  >(Prisma.sql`
    SELECT iv.host_id::text AS "hostId", iv.app, iv.version, r.manifest
    FROM installed_versions iv JOIN releases r ON r.app = iv.app AND r.version = iv.version
    WHERE iv.host_id = ANY(${hostIds}::uuid[]) AND iv.is_current AND iv.kind = 'app' AND r.manifest LIKE '%"requires":%'`);
  return rows.flatMap((r) =>
    requiresOf(r.manifest)
      .filter((q) => !runtime || q.runtime === runtime)
      .map((req) => ({ hostId: r.hostId, app: r.app, version: r.version, req })),
  );
}

async function runtimeRows(db: PrismaClient, hostIds: string[], names: string[]) {
  return db.installedVersion.findMany({
    where: { hostId: { in: hostIds }, app: { in: names }, kind: "runtime" },
    select: { hostId: true, app: true, version: true, isCurrent: true },
  });
}

/** The kind of what a rollout changes: its release's, else what the console or inventory knows. */
export async function kindOf(
  db: PrismaClient,
  app: string,
  release: { kind?: string } | null,
): Promise<string> {
  if (release?.kind) return release.kind;
  const r = await db.release.findFirst({ where: { app }, select: { kind: true } });
  if (r) return r.kind;
  const i = await db.installedVersion.findFirst({ where: { app }, select: { kind: true } });
  return i?.kind ?? "app";
}

export async function planRuntimes(
  deps: { db: PrismaClient; releases?: ReleaseDeps },
  spec: TRolloutSpec,
  release: (ReleaseRow & { kind: string }) | null,
  hosts: Host[],
  streamArtifacts: StreamArtifacts,
): Promise<{ hosts: Host[]; kind?: "runtime"; affects?: RuntimeUse[] }> {
  const kind = await kindOf(deps.db, spec.app, release);
  if (kind === "runtime") return runtimeRollout(deps.db, spec, hosts);
  if (kind !== "app") return { hosts };
  if (spec.action === "rollback") return { hosts: await checkAppRollback(deps.db, spec, hosts) };
  const requires = release ? requiresOf(release.manifest) : [];
  if (requires.length === 0) return { hosts };
  return { hosts: await addRuntimes(deps, spec, requires, hosts, streamArtifacts) };
}

/** A runtime update/rollback: refused where it would break an installed app; else lists the apps. */
async function runtimeRollout(db: PrismaClient, spec: TRolloutSpec, hosts: Host[]) {
  const targets = hosts.filter(working);
  const needs = await installedNeeds(
    db,
    targets.map((h) => h.hostId),
    spec.app,
  );
  const problems: string[] = [];
  const uses = new Map<string, RuntimeUse>();
  for (const h of targets) {
    for (const n of needs.filter((x) => x.hostId === h.hostId)) {
      if (!satisfies(h.to!, n.req.versions))
        problems.push(
          `host ${h.name}: ${n.app} ${n.version} requires ${spec.app} ${n.req.versions}, and ${h.to} is outside it`,
        );
      const k = `${n.app}\u0000${n.version}`;
      const u = uses.get(k) ?? { app: n.app, version: n.version, versions: n.req.versions, hosts: 0 };
      u.hosts++;
      uses.set(k, u);
    }
  }
  const what =
    spec.action === "rollback"
      ? `rolling runtime ${spec.app} back would break installed apps`
      : `runtime ${spec.app} ${spec.version} would break installed apps`;
  if (problems.length)
    refuse(
      problems,
      "REQUIREMENT_UNMET",
      `${what} (update those apps first, or choose a version inside their ranges)`,
    );
  const affects = [...uses.values()].sort(
    (a, b) => a.app.localeCompare(b.app) || compareVersions(a.version, b.version),
  );
  return {
    hosts: hosts.map((h) => (working(h) ? { ...h, kind: "runtime" as const } : h)),
    kind: "runtime" as const,
    affects,
  };
}

/** An app rollback: the previous version's requirements must hold with the runtimes the host has. */
async function checkAppRollback(db: PrismaClient, spec: TRolloutSpec, hosts: Host[]) {
  const targets = hosts.filter(working);
  const versions = [...new Set(targets.map((h) => h.to!))];
  const rels = await db.release.findMany({
    where: { app: spec.app, version: { in: versions } },
    select: { version: true, manifest: true },
  });
  const reqs = new Map(rels.map((r) => [r.version, requiresOf(r.manifest)]));
  const names = [...new Set([...reqs.values()].flat().map((r) => r.runtime))];
  if (names.length === 0) return hosts;
  const rows = await runtimeRows(
    db,
    targets.map((h) => h.hostId),
    names,
  );
  const problems: string[] = [];
  for (const h of targets) {
    for (const r of reqs.get(h.to!) ?? []) {
      const cur =
        rows.find((x) => x.hostId === h.hostId && x.app === r.runtime && x.isCurrent)?.version ?? null;
      if (!cur || !satisfies(cur, r.versions))
        problems.push(
          `host ${h.name}: ${spec.app} ${h.to} requires runtime ${r.runtime} ${r.versions}, and the host has ${cur ? `${r.runtime} ${cur}` : `no ${r.runtime}`}`,
        );
    }
  }
  if (problems.length)
    refuse(problems, "REQUIREMENT_UNMET", `rolling ${spec.app} back would leave it without its runtime`);
  return hosts;
}

/** The runtime installs an app update needs, per host (the newest release that fits every app there). */
async function addRuntimes(
  deps: { db: PrismaClient; releases?: ReleaseDeps },
  spec: TRolloutSpec,
  requires: RuntimeRequirement[],
  hosts: Host[],
  streamArtifacts: StreamArtifacts,
): Promise<Host[]> {
  const { db } = deps;
  const targets = hosts.filter((h) => h.action === "install" || h.action === "update");
  const names = requires.map((r) => r.runtime);
  const ids = targets.map((h) => h.hostId);
  const [rows, others, rels] = await Promise.all([
    runtimeRows(db, ids, names),
    installedNeeds(db, ids),
    db.release.findMany({
      where: { app: { in: names }, kind: "runtime" },
      select: {
        id: true,
        app: true,
        version: true,
        streamBytes: true,
        treeBytes: true,
        streamDigest: true,
        manifest: true,
      },
    }),
  ]);
  const problems: string[] = [];
  const chosen = new Map<
    string,
    { r: RuntimeRequirement; from: string | null; to: string; held: string[] }[]
  >();
  for (const h of targets) {
    for (const r of requires) {
      const mine = rows.filter((x) => x.hostId === h.hostId && x.app === r.runtime);
      const cur = mine.find((x) => x.isCurrent)?.version ?? null;
      if (cur && satisfies(cur, r.versions)) continue;
      // Other apps on this host that need the same runtime keep their ranges.
      const keep = others.filter(
        (o) => o.hostId === h.hostId && o.req.runtime === r.runtime && o.app !== spec.app,
      );
      const available = rels
        .filter((x) => x.app === r.runtime)
        .map((x) => x.version)
        .sort(compareVersions);
      const fits = available.filter(
        (v) =>
          satisfies(v, r.versions) &&
          keep.every((o) => satisfies(v, o.req.versions)) &&
          (!cur || compareVersions(v, cur) > 0),
      );
      const to = fits.at(-1);
      if (!to) {
        const has = cur ? `${r.runtime} ${cur}` : `no ${r.runtime}`;
        const avail = available.length
          ? `the console holds ${r.runtime} ${available.join(", ")}`
          : `the console holds no release of runtime ${r.runtime}`;
        const also = keep.length
          ? `, and ${keep.map((o) => `${o.app} ${o.version} needs ${o.req.versions}`).join(", ")}`
          : "";
        problems.push(
          `host ${h.name}: ${spec.app} ${spec.version} requires runtime ${r.runtime} ${r.versions}; the host has ${has}${also}; ${avail}${cur ? ` (newer than ${cur})` : ""}`,
        );
        continue;
      }
      chosen.set(h.hostId, [
        ...(chosen.get(h.hostId) ?? []),
        { r, from: cur, to, held: mine.map((x) => x.version).sort() },
      ]);
    }
  }
  if (problems.length) refuse(problems, "BAD_REQUEST", `no runtime satisfies ${spec.app} ${spec.version}`);

  // Streams per (runtime, version, versions held), like the app's own.
  const plans = new Map<string, PlanRuntime>();
  const planned = async (
    runtime: string,
    to: string,
    held: string[],
  ): Promise<Omit<PlanRuntime, "versions" | "from">> => {
    const key = [runtime, to, ...held].join("\n");
    const hit = plans.get(key);
    if (hit) return hit;
    const rel = rels.find((x) => x.app === runtime && x.version === to)!;
    const base = { runtime, versions: "", from: null, to };
    let p: PlanRuntime;
    if (held.includes(to)) p = { ...base, stream: "none", parent: null, bytes: 0, diskNeeded: 0 };
    else {
      const s = await planStream({
        db,
        hostVersions: held,
        app: runtime,
        version: to,
        producer: deps.releases,
      });
      const arts = await streamArtifacts(db, rel, [s]);
      if (s.kind === "none") p = { ...base, stream: "none", parent: null, bytes: 0, diskNeeded: 0 };
      else
        p = {
          ...base,
          stream: s.kind,
          parent: s.kind === "delta" ? s.parent : null,
          bytes: s.bytes,
          artifact: arts.get(s.kind === "delta" ? s.deltaId : "full")!,
          diskNeeded: s.kind === "full" ? Number(rel.treeBytes) : s.streamBytes,
        };
    }
    plans.set(key, p);
    return p;
  };
  const out: Host[] = [];
  for (const h of hosts) {
    const c = chosen.get(h.hostId);
    if (!c) {
      out.push(h);
      continue;
    }
    const runtimes: PlanRuntime[] = [];
    for (const x of c)
      runtimes.push({ ...(await planned(x.r.runtime, x.to, x.held)), versions: x.r.versions, from: x.from });
    const extra = runtimes.reduce((s, r) => ({ bytes: s.bytes + r.bytes, disk: s.disk + r.diskNeeded }), {
      bytes: 0,
      disk: 0,
    });
    out.push({ ...h, runtimes, bytes: h.bytes + extra.bytes, diskNeeded: h.diskNeeded + extra.disk });
  }
  return out;
}
