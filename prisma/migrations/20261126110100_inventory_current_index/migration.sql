-- Inventory: the current-versions index also carries host_id, so drift and filtered distributions
-- join hosts from the index alone (index-only scan) instead of visiting 10,000 heap rows per app.

-- DropIndex
DROP INDEX "installed_versions_is_current_app_version_idx";

-- CreateIndex
CREATE INDEX "installed_versions_is_current_app_version_host_id_idx" ON "installed_versions"("is_current", "app", "version", "host_id");
