// The Runtimes view (decision 0023): every runtime installed in the fleet, which versions are
// current on how many hosts (drift: more than one, or hosts behind the newest release), and which
// installed apps use it — their range, on how many hosts, and on how many of those the host's
// current runtime is outside it (the agent would refuse to activate them).
import { Prisma } from "@prisma/client";
import { compareVersions, satisfies, type RuntimeRequirement } from "@/agent/protocol";
import type { InventoryDeps } from "./types";

export type RuntimeSummary = {
  runtime: string;
  hosts: number;
  versions: { version: string; hosts: number }[];
  newestRelease: string | null;
  /** Hosts whose current version is not the newest release, or more than one version is current. */
  drift: boolean;
  usedBy: { app: string; version: string; versions: string; hosts: number; unmet: number }[];
};

export async function listRuntimes(deps: InventoryDeps): Promise<RuntimeSummary[]> {
  const { db } = deps;
  const [current, releases, users] = await Promise.all([
    db.$queryRaw<{ app: string; version: string; hosts: number }[]>(Prisma.sql`
      SELECT app, version, count(*)::int AS hosts FROM installed_versions
      WHERE kind = 'runtime' AND is_current GROUP BY app, version`),
    db.release.findMany({ where: { kind: "runtime" }, select: { app: true, version: true } }),
    db.$queryRaw<{ app: string; version: string; manifest: string; hostId: string }[]>(Prisma.sql`
      SELECT iv.app, iv.version, r.manifest, iv.host_id::text AS "hostId"
      FROM installed_versions iv JOIN releases r ON r.app = iv.app AND r.version = iv.version
      WHERE iv.kind = 'app' AND iv.is_current AND r.manifest LIKE '%"requires":%'`),
  ]);
  const runtimeOn = new Map<string, string>();
  const hostRuntimes = await db.installedVersion.findMany({
    where: { kind: "runtime", isCurrent: true },
    select: { hostId: true, app: true, version: true },
  });
  for (const r of hostRuntimes) runtimeOn.set(`${r.hostId}\u0000${r.app}`, r.version);
  const names = new Set([...current.map((c) => c.app)]);
  const out: RuntimeSummary[] = [];
  for (const runtime of [...names].sort()) {
    const versions = current
      .filter((c) => c.app === runtime)
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((c) => ({ version: c.version, hosts: c.hosts }));
    const newestRelease =
      releases
        .filter((r) => r.app === runtime)
        .map((r) => r.version)
        .sort(compareVersions)
        .at(-1) ?? null;
    const usedBy = new Map<string, RuntimeSummary["usedBy"][number]>();
    for (const u of users) {
      for (const req of (JSON.parse(u.manifest) as { requires?: RuntimeRequirement[] }).requires ?? []) {
        if (req.runtime !== runtime) continue;
        const k = `${u.app}\u0000${u.version}`;
        const e = usedBy.get(k) ?? {
          app: u.app,
          version: u.version,
          versions: req.versions,
          hosts: 0,
          unmet: 0,
        };
        e.hosts++;
        const have = runtimeOn.get(`${u.hostId}\u0000${runtime}`);
        if (!have || !satisfies(have, req.versions)) e.unmet++;
        usedBy.set(k, e);
      }
    }
    out.push({
      runtime,
      hosts: versions.reduce((s, v) => s + v.hosts, 0),
      versions,
      newestRelease,
      drift:
        versions.length > 1 || (newestRelease !== null && versions.some((v) => v.version !== newestRelease)),
      usedBy: [...usedBy.values()].sort(
        (a, b) => a.app.localeCompare(b.app) || compareVersions(a.version, b.version),
      ),
    });
  }
  return out;
}
