-- Inventory at 100,000 hosts, third pass (docs/decisions/0036-filter-group-members-and-history-counts.md).
--
-- 1. filter_group_members: the hosts each filter group selects, kept by triggers in the writing
--    transaction (hosts inserted or changed, installed versions changed, groups created, changed or
--    deleted), so a filter group's versions are counted in group_app_version_counts like a static
--    group's and drift reads a few rows instead of probing the group's hosts. The filter is
--    evaluated by keel_host_matches_filter, the SQL twin of hostFilterSql (host-filter-sql.ts);
--    filter-group-members.int.test.ts checks the two agree.
-- 2. app_version_history_deltas: each current-version validity period contributes +1 at its
--    valid_from and -1 at its valid_to, summed per (app, version) in day and hour buckets by a
--    trigger on installed_version_history; the hosts running each version at a past time T are the
--    day buckets before T's day + the hour buckets of T's day before T's hour + the periods starting
--    or ending in T's hour (read from the history indexes). Exact, whatever time a write carries.

-- CreateTable
CREATE TABLE "filter_group_members" (
    "group_id" UUID NOT NULL,
    "host_id" UUID NOT NULL,
    "counted" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "filter_group_members_pkey" PRIMARY KEY ("group_id", "host_id")
);

-- CreateIndex
CREATE INDEX "filter_group_members_host_id_idx" ON "filter_group_members"("host_id");

-- CreateTable
CREATE TABLE "app_version_history_deltas" (
    "id" BIGSERIAL NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "hourly" BOOLEAN NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "delta" INTEGER NOT NULL,

    CONSTRAINT "app_version_history_deltas_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "app_version_history_deltas_app_hourly_bucket_idx" ON "app_version_history_deltas"("app", "hourly", "bucket");

-- The periods ending in an hour, index-only (the starts use installed_version_history_as_of_idx).
-- Not expressible in the Prisma schema.
CREATE INDEX "installed_version_history_current_ends_idx" ON "installed_version_history" ("app", "valid_to")
  INCLUDE ("version", "valid_from") WHERE "is_current" AND "valid_to" IS NOT NULL;

-- ---- 1. filter group membership ---------------------------------------------------------------

-- JavaScript's String.prototype.trim (hostFilterSql trims free text before matching).
CREATE FUNCTION "keel_js_trim"(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(s, '^[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$', '', 'g');
$$;

-- likePattern(): the text with LIKE's wildcards escaped, between two %.
CREATE FUNCTION "keel_like_pattern"(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '%' || regexp_replace(s, '([\\%_])', '\\\1', 'g') || '%';
$$;

-- Does the host match a stored HostFilter? The same tests as hostFilterSql over `hosts h`; a key of
-- an unexpected JSON type is ignored rather than raising (a filter the console did not write is
-- never read from the members table: drift falls back to the query, see get-drift-report.ts).
CREATE FUNCTION "keel_host_matches_filter"(f jsonb, h_id uuid, h_name text, h_address text, h_hostname text, h_os text,
    h_environment text, h_labels jsonb, h_reachable boolean, h_host_key_changed boolean, h_last_seen_at timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  p text;
BEGIN
  IF jsonb_typeof(f) IS DISTINCT FROM 'object' THEN RETURN false; END IF;
  IF jsonb_typeof(f->'q') = 'string' AND keel_js_trim(f->>'q') <> '' THEN
    p := keel_like_pattern(keel_js_trim(f->>'q'));
    IF NOT coalesce(h_name ILIKE p OR h_address ILIKE p OR h_hostname ILIKE p OR h_os ILIKE p
                    OR h_environment ILIKE p OR h_labels::text ILIKE p, false) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'labels') = 'object' AND f->'labels' <> '{}'::jsonb THEN
    IF NOT coalesce(h_labels @> (f->'labels'), false) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'environments') = 'array' AND jsonb_array_length(f->'environments') > 0 THEN
    IF NOT coalesce(h_environment IN (SELECT jsonb_array_elements_text(f->'environments')), false) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'os') = 'string' AND f->>'os' <> '' THEN
    IF NOT coalesce(h_os ILIKE keel_like_pattern(f->>'os'), false) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'app') = 'string' AND f->>'app' <> '' AND jsonb_typeof(f->'version') = 'string' AND f->>'version' <> '' THEN
    IF NOT EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = h_id AND iv.app = f->>'app'
                   AND iv.version = f->>'version' AND iv.is_current) THEN RETURN false; END IF;
  ELSIF jsonb_typeof(f->'app') = 'string' AND f->>'app' <> '' THEN
    IF NOT EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = h_id AND iv.app = f->>'app') THEN RETURN false; END IF;
  ELSIF jsonb_typeof(f->'version') = 'string' AND f->>'version' <> '' THEN
    IF NOT EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = h_id AND iv.version = f->>'version'
                   AND iv.is_current) THEN RETURN false; END IF;
  END IF;
  IF f->'reachable' = 'true'::jsonb AND h_reachable IS NOT TRUE THEN RETURN false; END IF;
  IF f->'reachable' = 'false'::jsonb AND h_reachable IS TRUE THEN RETURN false; END IF;
  IF jsonb_typeof(f->'hostKeyChanged') = 'boolean' AND h_host_key_changed IS DISTINCT FROM (f->>'hostKeyChanged')::boolean THEN
    RETURN false;
  END IF;
  IF jsonb_typeof(f->'seenBefore') = 'string' AND pg_input_is_valid(f->>'seenBefore', 'timestamptz') THEN
    IF NOT (h_last_seen_at IS NULL OR h_last_seen_at < (f->>'seenBefore')::timestamptz) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'seenAfter') = 'string' AND pg_input_is_valid(f->>'seenAfter', 'timestamptz') THEN
    IF NOT coalesce(h_last_seen_at >= (f->>'seenAfter')::timestamptz, false) THEN RETURN false; END IF;
  END IF;
  IF jsonb_typeof(f->'ids') = 'array' THEN
    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(f->'ids') i(v)
                   WHERE pg_input_is_valid(i.v, 'uuid') AND i.v::uuid = h_id) THEN RETURN false; END IF;
  END IF;
  RETURN true;
END $$;

-- Serialises membership upkeep: host and version writers take it shared (they do not wait for
-- each other), a group's create, change or delete exclusive, so a group's recount and a host's
-- re-evaluation never miss each other's uncommitted change (READ COMMITTED: each statement of a
-- trigger function reads with a fresh snapshot, taken after the lock).
CREATE FUNCTION "keel_filter_groups_lock_key"() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT 7265311600036::bigint;
$$;

-- Re-evaluate the given hosts against every filter group (or those whose filter names an app or a
-- version, `versions_only`): add the memberships they gained, remove those they lost.
CREATE FUNCTION "keel_filter_groups_reevaluate"(host_ids uuid[], versions_only boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF versions_only AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.kind = 'filter' AND (g.filter ? 'app' OR g.filter ? 'version')) THEN
    RETURN;
  END IF;
  WITH want AS (
    SELECT g.id AS group_id, h.id AS host_id
    FROM hosts h CROSS JOIN host_groups g
    WHERE h.id = ANY(host_ids) AND g.kind = 'filter'
      AND (NOT versions_only OR g.filter ? 'app' OR g.filter ? 'version')
      AND keel_host_matches_filter(g.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment, h.labels,
                                   h.reachable, h.host_key_changed, h.last_seen_at)
  )
  DELETE FROM filter_group_members m
  WHERE m.host_id = ANY(host_ids)
    AND (NOT versions_only OR EXISTS (SELECT 1 FROM host_groups g WHERE g.id = m.group_id AND (g.filter ? 'app' OR g.filter ? 'version')))
    AND NOT EXISTS (SELECT 1 FROM want w WHERE w.group_id = m.group_id AND w.host_id = m.host_id);
  INSERT INTO filter_group_members (group_id, host_id)
  SELECT g.id, h.id
  FROM hosts h CROSS JOIN host_groups g
  WHERE h.id = ANY(host_ids) AND g.kind = 'filter'
    AND (NOT versions_only OR g.filter ? 'app' OR g.filter ? 'version')
    AND keel_host_matches_filter(g.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment, h.labels,
                                 h.reachable, h.host_key_changed, h.last_seen_at)
    AND NOT EXISTS (SELECT 1 FROM filter_group_members m WHERE m.group_id = g.id AND m.host_id = h.id)
  ON CONFLICT DO NOTHING;
END $$;

-- hosts inserted or changed in a column a filter tests; hosts deleted (their versions are already
-- gone, see hosts_delete_versions, so removing the memberships subtracts nothing twice).
CREATE FUNCTION "keel_filter_groups_on_hosts"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_advisory_xact_lock_shared(keel_filter_groups_lock_key());
    DELETE FROM filter_group_members m USING keel_old o WHERE m.host_id = o.id;
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.id) INTO ids FROM keel_new n;
  ELSE
    SELECT array_agg(n.id) INTO ids FROM keel_new n JOIN keel_old o ON o.id = n.id
    WHERE (n.name, n.address, n.hostname, n.os, n.environment, n.labels, n.reachable, n.host_key_changed, n.last_seen_at)
          IS DISTINCT FROM (o.name, o.address, o.hostname, o.os, o.environment, o.labels, o.reachable, o.host_key_changed, o.last_seen_at);
  END IF;
  IF ids IS NULL THEN RETURN NULL; END IF;
  PERFORM pg_advisory_xact_lock_shared(keel_filter_groups_lock_key());
  PERFORM keel_filter_groups_reevaluate(ids, false);
  RETURN NULL;
END $$;

CREATE TRIGGER "hosts_filter_groups_insert" AFTER INSERT ON "hosts"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_hosts"();
CREATE TRIGGER "hosts_filter_groups_update" AFTER UPDATE ON "hosts"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_hosts"();
CREATE TRIGGER "hosts_filter_groups_delete" AFTER DELETE ON "hosts"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_hosts"();

-- Each member row keeps the current versions it has added to group_app_version_counts
-- (`counted`, [{"a": app, "v": version}]). Syncing a host's memberships adds what it runs now and
-- did not count, and takes back what it counted and no longer runs. The counts therefore never depend
-- on the order in which the triggers of one statement fire: a statement that changes a host's
-- facts and its versions at once (recordFacts is one statement with data-modifying CTEs) fires the
-- hosts trigger, which may add a member that counts the new versions at once, and then the versions
-- trigger, whose sync finds them counted already.
CREATE FUNCTION "keel_filter_groups_sync"(host_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  WITH cur AS (
    SELECT m.group_id, m.host_id, m.counted AS before,
           coalesce((SELECT jsonb_agg(jsonb_build_object('a', iv.app, 'v', iv.version) ORDER BY iv.app, iv.version)
                     FROM installed_versions iv WHERE iv.host_id = m.host_id AND iv.is_current), '[]'::jsonb) AS after
    FROM filter_group_members m WHERE m.host_id = ANY(host_ids)
  ), changed AS (
    UPDATE filter_group_members m SET counted = c.after FROM cur c
    WHERE m.group_id = c.group_id AND m.host_id = c.host_id AND c.before <> c.after
    RETURNING c.group_id, c.before, c.after
  ), d AS (
    SELECT group_id, e->>'a' AS app, e->>'v' AS version, 1 AS delta
    FROM changed, jsonb_array_elements(after) e WHERE NOT before @> jsonb_build_array(e)
    UNION ALL
    SELECT group_id, e->>'a', e->>'v', -1
    FROM changed, jsonb_array_elements(before) e WHERE NOT after @> jsonb_build_array(e)
  )
  INSERT INTO group_app_version_counts (group_id, app, version, hosts)
  SELECT group_id, app, version, sum(delta)::int FROM d GROUP BY 1, 2, 3 HAVING sum(delta) <> 0;
$$;

-- Installed versions changed: the filter groups' version counts (by syncing the hosts' memberships,
-- above), then the membership of the hosts in groups whose filter names an app or a version. The hosts are locked FOR SHARE first (a concurrent change of their labels waits, and
-- is waited for), then the lock above.
CREATE FUNCTION "keel_filter_groups_on_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT host_id) INTO ids FROM keel_new;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT host_id) INTO ids FROM keel_old;
  ELSE
    SELECT array_agg(DISTINCT host_id) INTO ids FROM (SELECT host_id FROM keel_new UNION SELECT host_id FROM keel_old) x;
  END IF;
  IF ids IS NULL THEN RETURN NULL; END IF;
  PERFORM 1 FROM hosts h WHERE h.id = ANY(ids) ORDER BY h.id FOR SHARE;
  PERFORM pg_advisory_xact_lock_shared(keel_filter_groups_lock_key());
  PERFORM keel_filter_groups_sync(ids);
  PERFORM keel_filter_groups_reevaluate(ids, true);
  RETURN NULL;
END $$;

CREATE TRIGGER "installed_versions_filter_groups_insert" AFTER INSERT ON "installed_versions"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_versions"();
CREATE TRIGGER "installed_versions_filter_groups_delete" AFTER DELETE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_versions"();
CREATE TRIGGER "installed_versions_filter_groups_update" AFTER UPDATE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_on_versions"();

-- Members added: synced (their current versions counted). Members removed: what they counted is
-- taken back (a deleted group's rows are not written; the compaction drops what is left of it).
CREATE FUNCTION "keel_filter_groups_count_members"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM keel_filter_groups_sync(ARRAY(SELECT DISTINCT host_id FROM keel_new));
  ELSE
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT o.group_id, e->>'a', e->>'v', -count(*)::int
    FROM keel_old o, jsonb_array_elements(o.counted) e
    WHERE EXISTS (SELECT 1 FROM host_groups g WHERE g.id = o.group_id) GROUP BY 1, 2, 3;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "filter_group_members_count_insert" AFTER INSERT ON "filter_group_members"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_count_members"();
CREATE TRIGGER "filter_group_members_count_delete" AFTER DELETE ON "filter_group_members"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_filter_groups_count_members"();

-- A group created, deleted, or its kind or filter changed: its members again, over all hosts.
CREATE FUNCTION "keel_filter_groups_on_groups"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.kind IS NOT DISTINCT FROM OLD.kind AND NEW.filter IS NOT DISTINCT FROM OLD.filter THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(keel_filter_groups_lock_key());
  IF TG_OP = 'DELETE' OR NEW.kind IS DISTINCT FROM 'filter' THEN
    DELETE FROM filter_group_members WHERE group_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
  END IF;
  DELETE FROM filter_group_members m
  USING hosts h
  WHERE m.group_id = NEW.id AND h.id = m.host_id
    AND NOT keel_host_matches_filter(NEW.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment, h.labels,
                                     h.reachable, h.host_key_changed, h.last_seen_at);
  INSERT INTO filter_group_members (group_id, host_id)
  SELECT NEW.id, h.id FROM hosts h
  WHERE keel_host_matches_filter(NEW.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment, h.labels,
                                 h.reachable, h.host_key_changed, h.last_seen_at)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER "host_groups_filter_members" AFTER INSERT OR UPDATE OR DELETE ON "host_groups"
  FOR EACH ROW EXECUTE FUNCTION "keel_filter_groups_on_groups"();

-- Backfill: every filter group's members (the members trigger counts their versions).
INSERT INTO filter_group_members (group_id, host_id)
SELECT g.id, h.id FROM host_groups g CROSS JOIN hosts h
WHERE g.kind = 'filter'
  AND keel_host_matches_filter(g.filter, h.id, h.name, h.address, h.hostname, h.os, h.environment, h.labels,
                               h.reachable, h.host_key_changed, h.last_seen_at);

-- ---- 2. current versions over time -------------------------------------------------------------

-- A period's contributions: +1 at valid_from, -1 at valid_to (a period that ends before it starts,
-- which a clock set back could write, at valid_from: it is never live, as in the "as of" queries),
-- in a day and an hour bucket each. Inserted rows add theirs, deleted rows take theirs back, an
-- update does both.
CREATE FUNCTION "keel_history_contributions"(rows jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO app_version_history_deltas (app, version, hourly, bucket, delta)
  SELECT c.app, c.version, b.hourly, date_bin(b.width, c.at, timestamptz '2000-01-01 00:00:00+00'), sum(c.delta)::int
  FROM (SELECT r.app, r.version, r.valid_from AS at, r.sign AS delta
        FROM jsonb_to_recordset(rows) AS r(app text, version text, valid_from timestamptz, valid_to timestamptz, sign int)
        UNION ALL
        SELECT r.app, r.version, greatest(r.valid_to, r.valid_from), -r.sign
        FROM jsonb_to_recordset(rows) AS r(app text, version text, valid_from timestamptz, valid_to timestamptz, sign int)
        WHERE r.valid_to IS NOT NULL) c
  CROSS JOIN (VALUES (false, interval '1 day'), (true, interval '1 hour')) b(hourly, width)
  GROUP BY 1, 2, 3, 4 HAVING sum(c.delta) <> 0;
$$;

CREATE FUNCTION "keel_count_history"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  rows jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_agg(jsonb_build_object('app', app, 'version', version, 'valid_from', valid_from, 'valid_to', valid_to, 'sign', 1))
    INTO rows FROM keel_new WHERE is_current;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_agg(jsonb_build_object('app', app, 'version', version, 'valid_from', valid_from, 'valid_to', valid_to, 'sign', -1))
    INTO rows FROM keel_old WHERE is_current;
  ELSE
    SELECT jsonb_agg(r) INTO rows FROM (
      SELECT jsonb_build_object('app', app, 'version', version, 'valid_from', valid_from, 'valid_to', valid_to, 'sign', 1) AS r
      FROM keel_new WHERE is_current
      UNION ALL
      SELECT jsonb_build_object('app', app, 'version', version, 'valid_from', valid_from, 'valid_to', valid_to, 'sign', -1)
      FROM keel_old WHERE is_current) x;
  END IF;
  IF rows IS NOT NULL THEN PERFORM keel_history_contributions(rows); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "installed_version_history_count_insert" AFTER INSERT ON "installed_version_history"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_history"();
CREATE TRIGGER "installed_version_history_count_delete" AFTER DELETE ON "installed_version_history"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_history"();
CREATE TRIGGER "installed_version_history_count_update" AFTER UPDATE ON "installed_version_history"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_count_history"();

CREATE FUNCTION "keel_compact_app_version_history_deltas"() RETURNS void LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM app_version_history_deltas RETURNING app, version, hourly, bucket, delta)
  INSERT INTO app_version_history_deltas (app, version, hourly, bucket, delta)
  SELECT app, version, hourly, bucket, sum(delta)::int FROM gone GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0;
$$;

-- Backfill from the history.
INSERT INTO app_version_history_deltas (app, version, hourly, bucket, delta)
SELECT app, version, b.hourly, date_bin(b.width, at, timestamptz '2000-01-01 00:00:00+00'), sum(delta)::int
FROM (SELECT app, version, valid_from AS at, 1 AS delta FROM installed_version_history WHERE is_current
      UNION ALL
      SELECT app, version, greatest(valid_to, valid_from), -1 FROM installed_version_history WHERE is_current AND valid_to IS NOT NULL) c
CROSS JOIN (VALUES (false, interval '1 day'), (true, interval '1 hour')) b(hourly, width)
GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0;
