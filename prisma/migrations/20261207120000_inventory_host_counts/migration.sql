-- Inventory at 100,000 hosts (docs/decisions/0033-host-counts-table.md):
-- host_environment_counts: enrolled hosts per environment ('' for none), kept like
-- app_version_counts — statement triggers on hosts append signed deltas in the same transaction as
-- the insert, delete or environment change (no row is updated, so concurrent writers never wait for
-- each other), readers sum them, and compaction folds them into one row per environment. Drift,
-- the version distribution and the host list's total read a few rows instead of counting every host.

-- CreateTable
CREATE TABLE "host_environment_counts" (
    "id" BIGSERIAL NOT NULL,
    "environment" TEXT NOT NULL,
    "hosts" INTEGER NOT NULL,

    CONSTRAINT "host_environment_counts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "host_environment_counts_environment_idx" ON "host_environment_counts"("environment");

CREATE FUNCTION "keel_count_hosts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO host_environment_counts (environment, hosts)
    SELECT coalesce(n.environment, ''), count(*)::int FROM keel_new n GROUP BY 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO host_environment_counts (environment, hosts)
    SELECT coalesce(o.environment, ''), -count(*)::int FROM keel_old o GROUP BY 1;
  ELSE
    INSERT INTO host_environment_counts (environment, hosts)
    SELECT e.environment, sum(e.delta)::int
    FROM (SELECT coalesce(n.environment, '') AS environment, 1 AS delta
            FROM keel_new n JOIN keel_old o ON o.id = n.id WHERE o.environment IS DISTINCT FROM n.environment
          UNION ALL
          SELECT coalesce(o.environment, ''), -1
            FROM keel_new n JOIN keel_old o ON o.id = n.id WHERE o.environment IS DISTINCT FROM n.environment) e
    GROUP BY 1 HAVING sum(e.delta) <> 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "hosts_count_insert" AFTER INSERT ON "hosts"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_hosts"();
CREATE TRIGGER "hosts_count_delete" AFTER DELETE ON "hosts"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_hosts"();
CREATE TRIGGER "hosts_count_update" AFTER UPDATE ON "hosts"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_hosts"();

-- Fold the deltas into one row per environment; safe alongside writers and another compaction
-- (it removes only the rows its own snapshot sees and re-inserts their sum).
CREATE FUNCTION "keel_compact_host_environment_counts"() RETURNS void LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM host_environment_counts RETURNING environment, hosts)
  INSERT INTO host_environment_counts (environment, hosts)
  SELECT environment, sum(hosts)::int FROM gone GROUP BY 1 HAVING sum(hosts) <> 0;
$$;

-- Backfill from the current state.
INSERT INTO host_environment_counts (environment, hosts)
SELECT coalesce(environment, ''), count(*)::int FROM hosts GROUP BY 1;

-- Free text: one trigram index per column searched instead of one over their concatenation. The
-- concatenated expression had to be recomputed (labels::text, lower() of the whole) and rechecked
-- for every candidate row before the exact per-column test; per column, PostgreSQL ORs the six
-- index scans (BitmapOr) and rechecks each candidate with the one short ILIKE that matched, and
-- estimates the match count from per-column statistics. Not expressible in the Prisma schema.
CREATE INDEX "hosts_name_trgm_idx" ON "hosts" USING GIN ("name" gin_trgm_ops);
CREATE INDEX "hosts_address_trgm_idx" ON "hosts" USING GIN ("address" gin_trgm_ops);
CREATE INDEX "hosts_hostname_trgm_idx" ON "hosts" USING GIN ("hostname" gin_trgm_ops);
CREATE INDEX "hosts_os_trgm_idx" ON "hosts" USING GIN ("os" gin_trgm_ops);
CREATE INDEX "hosts_environment_trgm_idx" ON "hosts" USING GIN ("environment" gin_trgm_ops);
CREATE INDEX "hosts_labels_text_trgm_idx" ON "hosts" USING GIN (("labels"::text) gin_trgm_ops);
DROP INDEX "hosts_search_trgm_idx";

-- The host list's per-row app count (current versions of kind 'app') index-only: the (host_id,
-- is_current, app, version) index lacks `kind`, so each of a page's 50 rows fetched its ~20 version
-- rows from the heap (about 1,000 random reads of a 6,000,000-row table per page at 100,000 hosts).
-- Partial (current apps only): a third of installed_versions. Not expressible in the Prisma schema.
CREATE INDEX "installed_versions_current_apps_idx" ON "installed_versions" ("host_id") WHERE "is_current" AND "kind" = 'app';
