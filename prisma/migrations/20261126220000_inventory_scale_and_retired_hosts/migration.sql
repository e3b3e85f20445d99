-- Inventory at 10,000 hosts (issue 6) and retired hosts (docs/decisions/0008-retired-hosts.md).
--
-- 1. Retired hosts: removing a host moves its row to retired_hosts and keeps its history and
--    timeline, so "what ran on host X last Tuesday" still has an answer. The history and timeline
--    therefore no longer reference hosts (no cascade); hosts stays the table of enrolled hosts,
--    which every other part of Keel keeps using unchanged.
-- 2. app_version_counts: hosts per (app, current version, environment), kept by triggers in the
--    same transaction as every change of installed_versions or of a host's environment. The
--    triggers only append signed deltas (no row is updated, so concurrent refreshes never wait for
--    each other or deadlock); readers sum them, and compaction folds them into one row per key.
-- 3. Indexes: current versions per host (index-only drift of a group and app counts of a page),
--    trigram search over the free-text columns of hosts.

-- CreateTable
CREATE TABLE "retired_hosts" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "user" TEXT NOT NULL,
    "host_key_fingerprint" TEXT NOT NULL,
    "environment" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "facts" JSONB,
    "hostname" TEXT,
    "machine_id" TEXT,
    "os" TEXT,
    "kernel" TEXT,
    "arch" TEXT,
    "agent_version" TEXT,
    "last_seen_at" TIMESTAMPTZ(3),
    "enrolled_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "retired_at" TIMESTAMPTZ(3) NOT NULL,
    "retired_by" TEXT,

    CONSTRAINT "retired_hosts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "retired_hosts_name_idx" ON "retired_hosts"("name");

-- CreateIndex
CREATE INDEX "retired_hosts_retired_at_idx" ON "retired_hosts"("retired_at");

-- DropForeignKey
ALTER TABLE "installed_version_history" DROP CONSTRAINT "installed_version_history_host_id_fkey";

-- DropForeignKey
ALTER TABLE "host_events" DROP CONSTRAINT "host_events_host_id_fkey";

-- CreateTable
CREATE TABLE "app_version_counts" (
    "id" BIGSERIAL NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "hosts" INTEGER NOT NULL,

    CONSTRAINT "app_version_counts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "app_version_counts_app_version_environment_idx" ON "app_version_counts"("app", "version", "environment");

-- CreateIndex
CREATE INDEX "installed_versions_host_id_is_current_app_version_idx" ON "installed_versions"("host_id", "is_current", "app", "version");

-- Free text (name, address, hostname, OS, environment, labels) as one trigram-indexed expression;
-- the query keeps the exact per-column test as a recheck. Not expressible in the Prisma schema.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX "hosts_search_trgm_idx" ON "hosts" USING GIN (
    (lower("name" || ' ' || "address" || ' ' || coalesce("hostname", '') || ' ' || coalesce("os", '') || ' ' || coalesce("environment", '') || ' ' || "labels"::text)) gin_trgm_ops
);

-- Triggers keeping app_version_counts. The environment is read from hosts, so a host's current
-- versions are deleted before its row (a cascade would run after the row is gone).
CREATE FUNCTION "keel_count_installed_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO app_version_counts (app, version, environment, hosts)
    SELECT n.app, n.version, coalesce(h.environment, ''), count(*)::int
    FROM keel_new n JOIN hosts h ON h.id = n.host_id WHERE n.is_current GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO app_version_counts (app, version, environment, hosts)
    SELECT o.app, o.version, coalesce(h.environment, ''), -count(*)::int
    FROM keel_old o JOIN hosts h ON h.id = o.host_id WHERE o.is_current GROUP BY 1, 2, 3;
  ELSE
    INSERT INTO app_version_counts (app, version, environment, hosts)
    SELECT d.app, d.version, coalesce(h.environment, ''), sum(d.delta)::int
    FROM (SELECT host_id, app, version, 1 AS delta FROM keel_new WHERE is_current
          UNION ALL SELECT host_id, app, version, -1 FROM keel_old WHERE is_current) d
    JOIN hosts h ON h.id = d.host_id
    GROUP BY 1, 2, 3 HAVING sum(d.delta) <> 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "installed_versions_count_insert" AFTER INSERT ON "installed_versions"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_installed_versions"();
CREATE TRIGGER "installed_versions_count_delete" AFTER DELETE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_installed_versions"();
CREATE TRIGGER "installed_versions_count_update" AFTER UPDATE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_installed_versions"();

CREATE FUNCTION "keel_count_host_environment"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app_version_counts (app, version, environment, hosts)
  SELECT iv.app, iv.version, e.environment, sum(e.delta)::int
  FROM (SELECT n.id, coalesce(n.environment, '') AS environment, 1 AS delta
          FROM keel_new n JOIN keel_old o ON o.id = n.id WHERE o.environment IS DISTINCT FROM n.environment
        UNION ALL
        SELECT o.id, coalesce(o.environment, ''), -1
          FROM keel_new n JOIN keel_old o ON o.id = n.id WHERE o.environment IS DISTINCT FROM n.environment) e
  JOIN installed_versions iv ON iv.host_id = e.id AND iv.is_current
  GROUP BY 1, 2, 3 HAVING sum(e.delta) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER "hosts_count_environment" AFTER UPDATE ON "hosts"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_host_environment"();

CREATE FUNCTION "keel_host_delete_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM installed_versions WHERE host_id = OLD.id;
  RETURN OLD;
END $$;

CREATE TRIGGER "hosts_delete_versions" BEFORE DELETE ON "hosts"
  FOR EACH ROW EXECUTE FUNCTION "keel_host_delete_versions"();

-- Fold the deltas into one row per (app, version, environment); safe alongside writers (it only
-- removes rows its own snapshot sees and re-inserts their sum) and alongside another compaction.
CREATE FUNCTION "keel_compact_app_version_counts"() RETURNS void LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM app_version_counts RETURNING app, version, environment, hosts)
  INSERT INTO app_version_counts (app, version, environment, hosts)
  SELECT app, version, environment, sum(hosts)::int FROM gone GROUP BY 1, 2, 3 HAVING sum(hosts) <> 0;
$$;

-- Backfill from the current state.
INSERT INTO app_version_counts (app, version, environment, hosts)
SELECT iv.app, iv.version, coalesce(h.environment, ''), count(*)::int
FROM installed_versions iv JOIN hosts h ON h.id = iv.host_id WHERE iv.is_current GROUP BY 1, 2, 3;
