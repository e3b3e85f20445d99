-- Keyset pagination at 100,000 hosts (docs/decisions/0027-keyset-pagination.md).
-- "As of" pages walk the hosts enrolled then (hosts ∪ retired_hosts) in (name, id) order: with an
-- index on (name, id) on both, the page is a Merge Append of two index scans that stops after one
-- page, instead of a scan and sort of every host.
CREATE INDEX "hosts_name_id_idx" ON "hosts"("name", "id");
CREATE INDEX "retired_hosts_name_id_idx" ON "retired_hosts"("name", "id");
-- Their total ("hosts enrolled at T") counts index-only instead of reading every host's row.
CREATE INDEX "hosts_created_at_idx" ON "hosts"("created_at");
CREATE INDEX "retired_hosts_created_at_retired_at_idx" ON "retired_hosts"("created_at", "retired_at");
