// EXPLAIN (ANALYZE, BUFFERS) of every statement the inventory's service functions send, against a
// database seeded by `npm run bench:inventory -- --serve` (what docs/benchmarks.md quotes).
//   npx tsx bench/inventory-explain.ts URL [filter-substring]
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { listHosts } from "@/server/services/inventory/list-hosts";
import { getHostDetail } from "@/server/services/inventory/get-host-detail";
import { getVersionDistribution } from "@/server/services/inventory/get-version-distribution";
import { getDriftReport } from "@/server/services/inventory/get-drift-report";
import { getHostsAsOf } from "@/server/services/inventory/get-hosts-as-of";
import { encodeCursor } from "@/server/services/inventory/keyset";

const [url, only] = process.argv.slice(2);
if (!url) throw new Error("usage: tsx bench/inventory-explain.ts DATABASE_URL [name-substring]");

async function main() {
  const real = createDb(url!);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  let label = "";
  // The services' db, except that each raw statement is explained (and then run for real).
  const db = new Proxy(real, {
    get(target, prop, recv) {
      if (prop !== "$queryRaw") return Reflect.get(target, prop, recv);
      return async (q: unknown, ...rest: unknown[]) => {
        if (typeof q === "object" && q !== null && "text" in q && "values" in q) {
          const s = q as { text: string; values: unknown[] };
          const plan = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.values);
          console.log(`\n### ${label}\n${plan.rows.map((r) => r["QUERY PLAN"]).join("\n")}`);
        }
        return (target.$queryRaw as (...a: unknown[]) => Promise<unknown>)(q, ...rest);
      };
    },
  }) as PrismaClient;
  const deps = { db };
  const some = (
    await c.query<{ id: string; name: string }>(
      "SELECT id, name FROM hosts ORDER BY name OFFSET 5000 LIMIT 1",
    )
  ).rows[0]!;
  const last = (
    await c.query<{ name: string }>("SELECT name FROM hosts ORDER BY name DESC OFFSET 50 LIMIT 1")
  ).rows[0]!;
  const past = new Date(Date.now() - 20 * 86400_000);
  const cases: [string, () => Promise<unknown>][] = [
    [
      "list label+env+reachable, last seen desc",
      () =>
        listHosts(deps, {
          filter: { labels: { role: "web" }, environments: ["prod", "staging"], reachable: true },
          sort: "lastSeenAt",
          direction: "desc",
        }),
    ],
    [
      "list app+version, name",
      () =>
        listHosts(deps, {
          filter: { app: "app-07", version: "1.9.0" },
          sort: "name",
          after: encodeCursor({ s: "name", d: "asc", v: null, n: some.name }),
        }),
    ],
    ["list free text, os", () => listHosts(deps, { filter: { q: "host-03" }, sort: "os" })],
    [
      "list unfiltered, last page",
      () =>
        listHosts(deps, {
          sort: "name",
          after: encodeCursor({ s: "name", d: "asc", v: null, n: last.name }),
        }),
    ],
    ["host detail", () => getHostDetail(deps, { id: some.id })],
    ["distribution as of", () => getVersionDistribution(deps, { app: "app-07", at: past })],
    ["drift one app", () => getDriftReport(deps, { app: "app-07" })],
    ["drift all apps", () => getDriftReport(deps)],
    ["as of all apps", () => getHostsAsOf(deps, { at: past })],
    ["as of one app", () => getHostsAsOf(deps, { at: past, app: "app-07" })],
  ];
  for (const [name, run] of cases) {
    if (only && !name.includes(only)) continue;
    label = name;
    await run();
  }
  await c.end();
  await real.$disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
