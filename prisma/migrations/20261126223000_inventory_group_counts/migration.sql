-- Inventory: hosts per (static group, app, current version), kept like app_version_counts
-- (signed deltas appended by statement triggers in the writing transaction), so drift for a static
-- group reads a few rows instead of probing every member. Filter groups stay evaluated at query time.

-- CreateTable
CREATE TABLE "group_app_version_counts" (
    "id" BIGSERIAL NOT NULL,
    "group_id" UUID NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "hosts" INTEGER NOT NULL,

    CONSTRAINT "group_app_version_counts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "group_app_version_counts_group_id_app_version_idx" ON "group_app_version_counts"("group_id", "app", "version");

-- A version row changed: every static group the host is in. (A host's versions are deleted before
-- its memberships when it goes, see hosts_delete_versions, so this still sees them.)
CREATE FUNCTION "keel_group_count_installed_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT m.group_id, n.app, n.version, count(*)::int
    FROM keel_new n JOIN host_group_members m ON m.host_id = n.host_id WHERE n.is_current GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT m.group_id, o.app, o.version, -count(*)::int
    FROM keel_old o JOIN host_group_members m ON m.host_id = o.host_id WHERE o.is_current GROUP BY 1, 2, 3;
  ELSE
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT m.group_id, d.app, d.version, sum(d.delta)::int
    FROM (SELECT host_id, app, version, 1 AS delta FROM keel_new WHERE is_current
          UNION ALL SELECT host_id, app, version, -1 FROM keel_old WHERE is_current) d
    JOIN host_group_members m ON m.host_id = d.host_id
    GROUP BY 1, 2, 3 HAVING sum(d.delta) <> 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "installed_versions_group_count_insert" AFTER INSERT ON "installed_versions"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_group_count_installed_versions"();
CREATE TRIGGER "installed_versions_group_count_delete" AFTER DELETE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_group_count_installed_versions"();
CREATE TRIGGER "installed_versions_group_count_update" AFTER UPDATE ON "installed_versions"
  REFERENCING OLD TABLE AS keel_old NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_group_count_installed_versions"();

-- Members added or removed: their current versions. The members' host rows are locked first
-- (KEY SHARE, which a refresh's FOR UPDATE waits for and vice versa), so a refresh changing a
-- member's versions at the same time is counted either before or after the membership change,
-- never lost or counted twice. Rows of a group being deleted are not written (the group row is
-- already gone) and are dropped by the compaction.
CREATE FUNCTION "keel_group_count_members"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM hosts h WHERE h.id IN (SELECT host_id FROM keel_new) ORDER BY h.id FOR KEY SHARE;
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT n.group_id, iv.app, iv.version, count(*)::int
    FROM keel_new n JOIN installed_versions iv ON iv.host_id = n.host_id AND iv.is_current GROUP BY 1, 2, 3;
  ELSE
    PERFORM 1 FROM hosts h WHERE h.id IN (SELECT host_id FROM keel_old) ORDER BY h.id FOR KEY SHARE;
    INSERT INTO group_app_version_counts (group_id, app, version, hosts)
    SELECT o.group_id, iv.app, iv.version, -count(*)::int
    FROM keel_old o JOIN installed_versions iv ON iv.host_id = o.host_id AND iv.is_current
    WHERE EXISTS (SELECT 1 FROM host_groups g WHERE g.id = o.group_id) GROUP BY 1, 2, 3;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "host_group_members_count_insert" AFTER INSERT ON "host_group_members"
  REFERENCING NEW TABLE AS keel_new FOR EACH STATEMENT EXECUTE FUNCTION "keel_group_count_members"();
CREATE TRIGGER "host_group_members_count_delete" AFTER DELETE ON "host_group_members"
  REFERENCING OLD TABLE AS keel_old FOR EACH STATEMENT EXECUTE FUNCTION "keel_group_count_members"();

CREATE FUNCTION "keel_compact_group_app_version_counts"() RETURNS void LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM group_app_version_counts RETURNING group_id, app, version, hosts)
  INSERT INTO group_app_version_counts (group_id, app, version, hosts)
  SELECT group_id, app, version, sum(hosts)::int FROM gone
  WHERE EXISTS (SELECT 1 FROM host_groups g WHERE g.id = gone.group_id)
  GROUP BY 1, 2, 3 HAVING sum(hosts) <> 0;
$$;

-- Backfill from the current state.
INSERT INTO group_app_version_counts (group_id, app, version, hosts)
SELECT m.group_id, iv.app, iv.version, count(*)::int
FROM host_group_members m JOIN installed_versions iv ON iv.host_id = m.host_id AND iv.is_current GROUP BY 1, 2, 3;
