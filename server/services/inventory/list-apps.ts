// Every app known to the fleet with how many hosts run it (have a current version) and how many
// distinct versions are current somewhere, from app_version_counts (a few hundred rows). Runtimes
// share that table but are not apps: names the console knows as runtimes are left out (the
// Runtimes section lists them; an app and a runtime never share a name, decision 0023).
import { readAppVersionCounts } from "./app-version-counts";
import type { InventoryDeps } from "./types";

export type AppSummary = { app: string; hosts: number; versions: number };

export async function listApps(deps: InventoryDeps): Promise<AppSummary[]> {
  const out = new Map<string, { app: string; hosts: number; versions: Set<string> }>();
  const [counts, runtimes] = await Promise.all([
    readAppVersionCounts(deps.db),
    deps.db.release.findMany({ where: { kind: "runtime" }, select: { app: true }, distinct: ["app"] }),
  ]);
  const runtimeNames = new Set(runtimes.map((r) => r.app));
  for (const r of counts) {
    if (runtimeNames.has(r.app)) continue;
    const a = out.get(r.app) ?? { app: r.app, hosts: 0, versions: new Set<string>() };
    a.hosts += r.hosts;
    a.versions.add(r.version);
    out.set(r.app, a);
  }
  return [...out.values()]
    .sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0))
    .map((a) => ({ app: a.app, hosts: a.hosts, versions: a.versions.size }));
}
