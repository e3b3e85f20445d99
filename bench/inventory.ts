// Inventory benchmark: seeds 10,000 (or --hosts N, e.g. 100,000) hosts × 20 apps × up to 5 installed versions with history
// (about 2 M history rows, 400 k timeline events) into a fresh embedded PostgreSQL with
// INSERT … SELECT, then times the service functions the console calls (p50/p95 over repeated
// calls), and — when the lab, SSH layer and agent are present — a refresh of 100 lab hosts end to
// end. Writes the figures to docs/benchmarks.md under "## Inventory".
//   npm run bench:inventory [-- --hosts 10000 --runs 60 --lab-hosts 100 --no-lab --no-write --serve --lab-only]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "@/infra/start/postgres";
import { applyMigrations } from "@/prisma/migrate";
import { createDb } from "@/server/db";
import { listHosts } from "@/server/services/inventory/list-hosts";
import { getHostDetail } from "@/server/services/inventory/get-host-detail";
import { getVersionDistribution } from "@/server/services/inventory/get-version-distribution";
import { getDriftReport } from "@/server/services/inventory/get-drift-report";
import { getHostsAsOf } from "@/server/services/inventory/get-hosts-as-of";
import { listApps } from "@/server/services/inventory/list-apps";
import { listStaleHosts } from "@/server/services/inventory/list-stale-hosts";
import { encodeCursor } from "@/server/services/inventory/keyset";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const HOSTS = opt("hosts", 10_000);
/** Hosts enrolled and removed again (retired) besides HOSTS, so "as of" views meet some. */
const RETIRED = Math.floor(HOSTS / 100);
const RUNS = opt("runs", 60);
/** Digits in the seeded host names (host-00001 … host-10100, host-000001 … host-101000). */
const WIDTH = Math.max(5, String(HOSTS + RETIRED).length);
const APPS = 20;
const WRITE = !args.includes("--no-write");
const LAB = !args.includes("--no-lab");
const LAB_HOSTS = opt("lab-hosts", 100);
/** Seed, print the database URL and wait for Ctrl-C (for EXPLAIN ANALYZE by hand). */
const SERVE = args.includes("--serve");
/** Only the lab part: refresh of LAB_HOSTS lab hosts end to end, printed (not written). */
const LAB_ONLY = args.includes("--lab-only");

async function seed(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  c.on("error", (e) => console.error(`seed connection: ${e.message}`));
  const q = async (label: string, sql: string) => {
    const t = Date.now();
    const r = await c.query(sql);
    console.log(`  ${label}: ${r.rowCount ?? 0} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await c.query("SELECT setseed(0.42)");
  // Bulk-load settings: no FK triggers, no per-row index upkeep (indexes are rebuilt afterwards),
  // and — in this throwaway cluster only — checkpoints spaced out for the load (reset at the end).
  await c.query("SET session_replication_role = replica");
  await c.query("SET synchronous_commit = off");
  await c.query("SET maintenance_work_mem = '512MB'");
  await c.query("SET work_mem = '256MB'");
  await c.query("ALTER SYSTEM SET max_wal_size = '32GB'");
  await c.query("ALTER SYSTEM SET checkpoint_timeout = '1h'");
  await c.query("SELECT pg_reload_conf()");
  const big = [
    "hosts",
    "installed_versions",
    "installed_version_history",
    "host_events",
    "retired_hosts",
    "app_version_counts",
    "host_environment_counts",
    "filter_group_members",
    "app_version_history_deltas",
  ];
  const { rows: indexes } = await c.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`,
    [big],
  );
  for (const i of indexes) await c.query(`DROP INDEX "${i.indexname}"`);
  await q(
    "hosts",
    `INSERT INTO hosts (name, address, port, "user", host_key_fingerprint, environment, labels, reachable, last_error,
       last_seen_at, last_refresh_at, hostname, machine_id, os, kernel, arch, agent_version, store_total_bytes, store_used_bytes,
       facts, facts_at, created_at)
     SELECT 'host-' || lpad(i::text, ${WIDTH}, '0'), '10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256), 22, 'root',
       'SHA256:' || rpad(md5(i::text), 43, 'x'),
       (ARRAY['dev','staging','prod'])[1 + i % 3],
       jsonb_build_object('role', (ARRAY['web','db','cache','queue','batch','edge','api','auth','search','mail'])[1 + i % 10],
                          'dc', (ARRAY['fra1','ams1','lon1','nyc1'])[1 + i % 4], 'team', 'team-' || (i % 20)),
       i % 20 <> 0, CASE WHEN i % 20 = 0 THEN 'connect ETIMEDOUT' END,
       now() - (random() * interval '3 days') - CASE WHEN i % 20 = 0 THEN interval '2 days' ELSE interval '0' END,
       now() - (random() * interval '1 hour'),
       'host-' || i, md5('m' || i), (ARRAY['Debian GNU/Linux 12 (bookworm)','Ubuntu 24.04 LTS','Fedora Linux 41'])[1 + i % 3],
       '6.1.0-' || (20 + i % 5), 'x86_64', '0.1.0', 20000000000, 1000000000 + (random() * 9e9)::bigint,
       jsonb_build_object('cpuCount', 2 + i % 4, 'memoryBytes', 4294967296), now() - interval '1 hour',
       now() - interval '90 days'
     FROM generate_series(1, ${HOSTS + RETIRED}) i`,
  );
  // Per host × app: n installed versions (1–5), the newest is 1.<top>.0; versions were
  // activated a week apart, the one before the oldest installed was removed (garbage collected).
  // 1 % more hosts were enrolled and removed (retired) in the last 10 days (`gone`): they get no
  // installed versions, their history ends when they were retired and their timeline stops there —
  // generated so in one pass, not written and then updated (16 M history rows at 100,000 hosts).
  await q(
    "host×app plan",
    `CREATE TEMP TABLE ha AS
     SELECT h.id AS host_id, 'app-' || lpad(a::text, 2, '0') AS app, 1 + floor(random() * 5)::int AS n,
            6 + floor(random() * 6)::int AS top, now() - random() * interval '2 days' AS base, h.gone
     FROM (SELECT id, CASE WHEN name > 'host-' || lpad('${HOSTS}', ${WIDTH}, '0') THEN now() - random() * interval '10 days' END AS gone
           FROM hosts) h CROSS JOIN generate_series(1, ${APPS}) a`,
  );
  await q(
    "installed_versions",
    `INSERT INTO installed_versions (host_id, app, version, kind, size_bytes, received_uuid, signer, installed_at, is_current, is_previous, first_seen_at)
     SELECT host_id, app, '1.' || v || '.0', 'app', 10000000 + v * 1000, md5(host_id::text || app || v), 'keel-key-1',
            base - (top - v) * interval '7 days', v = top, v = top - 1, base - (top - v) * interval '7 days'
     FROM ha, generate_series(top - n + 1, top) v WHERE gone IS NULL`,
  );
  // Validity periods: current [t(v), t(v+1)), previous [t(v+1), t(v+2)), plain [t(v+2), ∞) while
  // installed; the removed version's periods end when it was collected; a retired host's end then.
  await q(
    "installed_version_history",
    `INSERT INTO installed_version_history (host_id, app, version, kind, size_bytes, received_uuid, signer, is_current, is_previous, valid_from, valid_to)
     SELECT host_id, app, version, 'app', size_bytes, received_uuid, 'keel-key-1', is_current, is_previous, valid_from,
            CASE WHEN gone IS NOT NULL AND (valid_to IS NULL OR valid_to > gone) THEN gone ELSE valid_to END
     FROM (SELECT host_id, app, gone, '1.' || v || '.0' AS version, 10000000 + v * 1000 AS size_bytes,
                  md5(host_id::text || app || v) AS received_uuid, s = 0 AS is_current, s = 1 AS is_previous,
                  base - (top - v - s) * interval '7 days' AS valid_from,
                  CASE WHEN s = 0 AND v = top THEN NULL
                       WHEN s = 1 AND v = top - 1 THEN (CASE WHEN v >= top - n + 1 THEN NULL ELSE base END)
                       WHEN s = 2 THEN (CASE WHEN v >= top - n + 1 THEN NULL ELSE base - (top - v - 2) * interval '7 days' END)
                       ELSE base - (top - v - s - 1) * interval '7 days' END AS valid_to
           FROM ha, generate_series(greatest(1, top - n), top) v, generate_series(0, 2) s
           WHERE v + s <= top AND NOT (v < top - n + 1 AND s = 2)) p
     WHERE gone IS NULL OR valid_from < gone`,
  );
  await q(
    "host_events",
    `INSERT INTO host_events (host_id, at, kind, message, detail)
     SELECT host_id, base - (top - v) * interval '7 days', 'version.activated', app || ' current 1.' || (v - 1) || '.0 → 1.' || v || '.0',
            jsonb_build_object('app', app, 'from', '1.' || (v - 1) || '.0', 'to', '1.' || v || '.0')
     FROM ha, generate_series(top - 1, top) v
     WHERE gone IS NULL OR base - (top - v) * interval '7 days' <= gone`,
  );
  await q(
    "retired hosts",
    `WITH r AS (SELECT DISTINCT host_id AS id, gone AS at FROM ha WHERE gone IS NOT NULL)
     INSERT INTO retired_hosts (id, name, address, port, "user", host_key_fingerprint, environment, labels, facts, hostname, machine_id,
                                os, kernel, arch, agent_version, last_seen_at, created_at, retired_at)
     SELECT h.id, h.name, h.address, h.port, h."user", h.host_key_fingerprint, h.environment, h.labels, h.facts, h.hostname, h.machine_id,
            h.os, h.kernel, h.arch, h.agent_version, least(h.last_seen_at, r.at), h.created_at, r.at
     FROM hosts h JOIN r ON r.id = h.id`,
  );
  await q("retired hosts removed", `DELETE FROM hosts h USING retired_hosts r WHERE h.id = r.id`);
  // Triggers keep app_version_counts, host_environment_counts, the filter groups' members and the
  // history's deltas; they are off during the bulk load, so fill them once here.
  await q(
    "app_version_counts",
    `INSERT INTO app_version_counts (app, version, environment, hosts)
     SELECT iv.app, iv.version, coalesce(h.environment, ''), count(*)::int
     FROM installed_versions iv JOIN hosts h ON h.id = iv.host_id WHERE iv.is_current GROUP BY 1, 2, 3`,
  );
  await q(
    "host_environment_counts",
    `INSERT INTO host_environment_counts (environment, hosts) SELECT coalesce(environment, ''), count(*)::int FROM hosts GROUP BY 1`,
  );
  await q(
    "groups",
    `INSERT INTO host_groups (name, kind, filter) VALUES ('canary', 'static', NULL), ('web-fra', 'filter', '{"labels":{"role":"web","dc":"fra1"}}')`,
  );
  await q(
    "group members",
    `INSERT INTO host_group_members (group_id, host_id) SELECT g.id, h.id FROM host_groups g, hosts h WHERE g.name = 'canary' AND h.name LIKE '%7'`,
  );
  await q(
    "group_app_version_counts",
    `INSERT INTO group_app_version_counts (group_id, app, version, hosts)
     SELECT m.group_id, iv.app, iv.version, count(*)::int
     FROM host_group_members m JOIN installed_versions iv ON iv.host_id = m.host_id AND iv.is_current GROUP BY 1, 2, 3`,
  );
  await q(
    "filter group members",
    `INSERT INTO filter_group_members (group_id, host_id, counted)
     SELECT g.id, h.id, coalesce((SELECT jsonb_agg(jsonb_build_object('a', iv.app, 'v', iv.version) ORDER BY iv.app, iv.version)
       FROM installed_versions iv WHERE iv.host_id = h.id AND iv.is_current), '[]'::jsonb)
     FROM host_groups g CROSS JOIN hosts h
     WHERE g.kind = 'filter' AND keel_host_matches_filter(g.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment,
       h.labels, h.reachable, h.host_key_changed, h.last_seen_at)`,
  );
  await q(
    "group_app_version_counts (filter groups)",
    `INSERT INTO group_app_version_counts (group_id, app, version, hosts)
     SELECT m.group_id, iv.app, iv.version, count(*)::int
     FROM filter_group_members m JOIN installed_versions iv ON iv.host_id = m.host_id AND iv.is_current GROUP BY 1, 2, 3`,
  );
  await q(
    "app_version_history_deltas",
    `INSERT INTO app_version_history_deltas (app, version, hourly, bucket, delta)
     SELECT app, version, b.hourly, date_bin(b.width, at, timestamptz '2000-01-01 00:00:00+00'), sum(delta)::int
     FROM (SELECT app, version, valid_from AS at, 1 AS delta FROM installed_version_history WHERE is_current
           UNION ALL
           SELECT app, version, greatest(valid_to, valid_from), -1 FROM installed_version_history WHERE is_current AND valid_to IS NOT NULL) c
     CROSS JOIN (VALUES (false, interval '1 day'), (true, interval '1 hour')) b(hourly, width)
     GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0`,
  );
  await q(
    "targets",
    `INSERT INTO app_targets (app, version, scope_kind, scope_key, group_id)
     SELECT 'app-' || lpad(a::text, 2, '0'), '1.' || (8 + a % 3) || '.0', 'fleet', '*', NULL::uuid FROM generate_series(1, ${APPS}) a
     UNION ALL SELECT 'app-' || lpad(a::text, 2, '0'), '1.' || (7 + a % 4) || '.0', 'environment', e, NULL::uuid FROM generate_series(1, ${APPS}) a, unnest(ARRAY['dev','staging','prod']) e
     UNION ALL SELECT 'app-' || lpad(a::text, 2, '0'), '1.11.0', 'group', g.id::text, g.id FROM generate_series(1, ${APPS}) a, host_groups g`,
  );
  const ti = Date.now();
  for (const i of indexes) {
    const t = Date.now();
    await c.query(i.indexdef);
    if (Date.now() - t > 5000) console.log(`    ${i.indexname}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  console.log(`  ${indexes.length} indexes rebuilt in ${((Date.now() - ti) / 1000).toFixed(1)} s`);
  await c.query("SET session_replication_role = origin");
  await q("analyze", "VACUUM ANALYZE");
  await c.query("ALTER SYSTEM RESET max_wal_size");
  await c.query("ALTER SYSTEM RESET checkpoint_timeout");
  await c.query("SELECT pg_reload_conf()");
  const counts = await c.query(
    `SELECT (SELECT count(*) FROM hosts) h, (SELECT count(*) FROM installed_versions) iv, (SELECT count(*) FROM installed_version_history) hist,
            (SELECT count(*) FROM host_events) ev, (SELECT count(*) FROM retired_hosts) rh`,
  );
  await c.end();
  const r = counts.rows[0];
  return {
    hosts: Number(r.h),
    installed: Number(r.iv),
    history: Number(r.hist),
    events: Number(r.ev),
    retired: Number(r.rh),
  };
}

function pct(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function measure(name: string, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await fn(i); // warm-up: connections, plans, caches
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  const r = { name, p50: pct(times, 50), p95: pct(times, 95), max: Math.max(...times) };
  console.log(
    `  ${name.padEnd(58)} p50 ${r.p50.toFixed(1).padStart(6)} ms   p95 ${r.p95.toFixed(1).padStart(6)} ms`,
  );
  return r;
}

async function labRefresh(dbUrl: string): Promise<string | null> {
  // Needs root, the lab (infra/lab) and the built agent (npm run build:agent).
  if (!LAB) return "skipped (--no-lab)";
  if (!existsSync("agent/dist/keel-agent.mjs"))
    return "not measured: build the agent first (npm run build:agent)";
  const { runLabRefreshBench } = await import("./inventory-lab");
  return runLabRefreshBench(LAB_HOSTS, dbUrl);
}

/** --url URL: measure against a database seeded before (e.g. by --serve), no seeding, no lab. */
const URL_ARG = (() => {
  const i = args.indexOf("--url");
  return i >= 0 ? args[i + 1] : undefined;
})();

type Result = Awaited<ReturnType<typeof measure>>;
type Counts = Awaited<ReturnType<typeof seed>>;

function render(counts: Counts, seedS: number, results: Result[], lab: string | null): string {
  return [
    "## Inventory",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:inventory\` on this machine (${cpus().length} cores shared with other work, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM),`,
    `load average ${loadavg()[0]!.toFixed(1)} at the end of the run; embedded PostgreSQL 18, default settings. Seeded ${counts.hosts.toLocaleString("en")} hosts × ${APPS} apps (and ${counts.retired} retired hosts): ${counts.installed.toLocaleString("en")} installed versions,`,
    `${counts.history.toLocaleString("en")} history periods, ${counts.events.toLocaleString("en")} timeline events (seed ${seedS.toFixed(0)} s). Each figure: ${RUNS} calls of the service function`,
    "after 3 warm-up calls, through Prisma and the pg driver adapter (what a tRPC call costs minus HTTP).",
    'Goal: p95 < 100 ms for list and detail, < 200 ms for distribution, drift and "as of".',
    "",
    "| query | p50 ms | p95 ms |",
    "| --- | ---: | ---: |",
    ...results.map((r) => `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} |`),
    "",
    `Refresh of lab hosts end to end (connect with pinned key, ensure agent, \`facts\`, record): ${lab}`,
    "",
  ].join("\n");
}

async function measureAll(url: string) {
  const db = createDb(url);
  const deps = { db };
  try {
    const hostIds = (await db.host.findMany({ select: { id: true } })).map((h) => h.id);
    const retiredIds = (await db.retiredHost.findMany({ select: { id: true } })).map((h) => h.id);
    const rnd = (i: number, n: number) => (i * 7919 + 13) % n;
    const app = (i: number) => `app-${String(1 + rnd(i, APPS)).padStart(2, "0")}`;
    const past = (i: number) => new Date(Date.now() - (1 + rnd(i, 40)) * 86400_000);
    // Cursors to the pages the calls ask for, found by walking the list once (not timed): the
    // keyset cursor of a name-sorted list is the name the page starts after.
    const hostNames = (await db.host.findMany({ select: { name: true }, orderBy: { name: "asc" } })).map(
      (h) => h.name,
    );
    hostNames.push("host-99999999"); // sorts after every seeded name: "before" it is the last page
    const byName = (k: number) =>
      k <= 0 ? undefined : encodeCursor({ s: "name", d: "asc", v: null, n: hostNames[k - 1]! });
    const webProd = { labels: { role: "web" }, environments: ["prod", "staging"], reachable: true };
    const walk = async (fetch: (after?: string) => Promise<{ nextCursor: string | null }>, n: number) => {
      const out: (string | undefined)[] = [undefined];
      while (out.length < n) {
        const next = (await fetch(out[out.length - 1])).nextCursor;
        if (!next) break;
        out.push(next);
      }
      return out;
    };
    const webProdPages = await walk(
      (after) =>
        listHosts(deps, { filter: webProd, sort: "lastSeenAt", direction: "desc", after, pageSize: 50 }),
      10,
    );
    const asOfPages = await walk((after) => getHostsAsOf(deps, { at: past(0), after, pageSize: 50 }), 20);
    console.log("measuring");
    return [
      // The floor: one trivial round trip through Prisma on this machine at this moment.
      await measure("baseline: SELECT 1 through Prisma (machine load floor)", () => db.$queryRaw`SELECT 1`),
      await measure("hosts list: label+env+reachable, sort last seen, page", (i) =>
        listHosts(deps, {
          filter: webProd,
          sort: "lastSeenAt",
          direction: "desc",
          after: webProdPages[rnd(i, 10)],
          pageSize: 50,
        }),
      ),
      await measure("hosts list: app+version filter, sort name, page", (i) =>
        listHosts(deps, {
          filter: { app: app(i), version: "1.9.0" },
          sort: "name",
          after: byName(rnd(i, 5) * 50 * 5),
          pageSize: 50,
        }),
      ),
      await measure("hosts list: free text, sort OS, page", (i) =>
        listHosts(deps, { filter: { q: `host-0${rnd(i, 10)}` }, sort: "os", pageSize: 50 }),
      ),
      await measure("hosts list: unfiltered, sort name, last page", () =>
        listHosts(deps, { sort: "name", after: byName(hostNames.length - 51), pageSize: 50 }),
      ),
      await measure("hosts list: unfiltered, sort name, last page (before)", () =>
        listHosts(deps, { sort: "name", before: byName(hostNames.length), pageSize: 50 }),
      ),
      await measure("host detail (facts, 20 apps × versions, 100 events)", (i) =>
        getHostDetail(deps, { id: hostIds[rnd(i, hostIds.length)]! }),
      ),
      await measure("host detail as of a past time", (i) =>
        getHostDetail(deps, { id: hostIds[rnd(i, hostIds.length)]!, at: past(i) }),
      ),
      ...(retiredIds.length
        ? [
            await measure("host detail of a retired host (history until removal)", (i) =>
              getHostDetail(deps, { id: retiredIds[rnd(i, retiredIds.length)]! }),
            ),
          ]
        : []),
      await measure("version distribution, one app", (i) => getVersionDistribution(deps, { app: app(i) })),
      await measure("version distribution, one app, filtered by env", (i) =>
        getVersionDistribution(deps, { app: app(i), filter: { environments: ["prod"] } }),
      ),
      await measure("version distribution, one app, as of a past time", (i) =>
        getVersionDistribution(deps, { app: app(i), at: past(i) }),
      ),
      await measure("drift report, one app (6 scopes)", (i) => getDriftReport(deps, { app: app(i) })),
      await measure("drift report, all apps (120 targets)", () => getDriftReport(deps)),
      await measure('"as of": hosts page with all apps at a past time', (i) =>
        getHostsAsOf(deps, { at: past(i), after: asOfPages[rnd(i, 20)], pageSize: 50 }),
      ),
      await measure('"as of": hosts page running one app at a past time', (i) =>
        getHostsAsOf(deps, { at: past(i), app: app(i), after: asOfPages[rnd(i, 20)], pageSize: 50 }),
      ),
      await measure("apps overview (hosts and versions per app)", () => listApps(deps)),
      await measure("hosts not seen for 24 h", () => listStaleHosts(deps, { pageSize: 50 })),
    ];
  } finally {
    await db.$disconnect();
  }
}

async function main() {
  if (URL_ARG) {
    const c = new pg.Client({ connectionString: URL_ARG });
    await c.connect();
    const r = (
      await c.query(`SELECT (SELECT count(*) FROM hosts) h, (SELECT count(*) FROM installed_versions) iv, (SELECT count(*) FROM installed_version_history) hist,
                                     (SELECT count(*) FROM host_events) ev, (SELECT count(*) FROM retired_hosts) rh`)
    ).rows[0];
    await c.end();
    const counts = {
      hosts: Number(r.h),
      installed: Number(r.iv),
      history: Number(r.hist),
      events: Number(r.ev),
      retired: Number(r.rh),
    };
    const results = await measureAll(URL_ARG);
    console.log(render(counts, 0, results, "not measured (--url)"));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-inv-"));
  const pgsrv = await startEmbeddedPostgres({ dataDir: dir });
  try {
    const url = pgsrv.urlFor("postgres");
    await applyMigrations(url);
    if (LAB_ONLY) {
      const lab = await labRefresh(url).catch((e: Error) => `failed: ${e.message}`);
      console.log(`lab refresh: ${lab}`);
      return;
    }
    console.log(`seeding ${HOSTS} hosts × ${APPS} apps`);
    const t0 = Date.now();
    const counts = await seed(url);
    const seedS = (Date.now() - t0) / 1000;
    if (SERVE) {
      console.log(
        `seeded in ${seedS.toFixed(0)} s: ${JSON.stringify(counts)}\nDATABASE_URL=${url}\n(Ctrl-C stops the server)`,
      );
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      return;
    }
    const results = await measureAll(url);
    // The lab hosts go into a database of their own so they do not join the 10,000 seeded ones.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE DATABASE labbench");
    await c.end();
    await applyMigrations(pgsrv.urlFor("labbench"));
    const lab = await labRefresh(pgsrv.urlFor("labbench")).catch((e: Error) => `failed: ${e.message}`);
    console.log(`lab refresh: ${lab}`);
    const md = render(counts, seedS, results, lab);
    if (WRITE) writeSection(md);
    else console.log(md);
  } finally {
    await pgsrv.stop();
    rmSync(dir, { recursive: true, force: true });
    if (pgsrv.pgData.startsWith("/var/lib/keel-console/"))
      rmSync(pgsrv.pgData, { recursive: true, force: true });
  }
}

/** Replace (or append) the "## Inventory" section of docs/benchmarks.md, leaving other sections alone. */
function writeSection(md: string) {
  const path = "docs/benchmarks.md";
  const old = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const start = old.search(/^## Inventory\s*$/m);
  let out: string;
  if (start < 0) out = old.replace(/\n*$/, "\n\n") + md;
  else {
    const rest = old.slice(start + 1);
    const next = rest.search(/^## /m);
    out = old.slice(0, start) + md + (next >= 0 ? "\n" + rest.slice(next) : "");
  }
  writeFileSync(path, out);
  console.log(`wrote ${path}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
