-- Inventory: the per-host history index also carries valid_to, is_current and version, so "what
-- did host h run at T" (host page as of T, the "as of" pages probing host after host) is answered
-- from the index alone instead of one heap visit per period.

-- DropIndex
DROP INDEX "installed_version_history_host_id_app_valid_from_idx";

-- CreateIndex
CREATE INDEX "installed_version_history_host_id_app_valid_from_valid_to__idx" ON "installed_version_history"("host_id", "app", "valid_from", "valid_to", "is_current", "version");
