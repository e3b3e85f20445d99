-- Inventory: hosts, facts, installed versions with history, host timeline, groups, app targets.
-- Written by hand to match prisma/schema/hosts.prisma exactly (what `prisma migrate diff` emits).

-- CreateTable
CREATE TABLE "hosts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 22,
    "user" TEXT NOT NULL DEFAULT 'root',
    "host_key_fingerprint" TEXT NOT NULL,
    "host_key_changed" BOOLEAN NOT NULL DEFAULT false,
    "presented_key_fingerprint" TEXT,
    "sudo_mode" TEXT NOT NULL DEFAULT 'none',
    "environment" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "reachable" BOOLEAN,
    "last_error" TEXT,
    "last_seen_at" TIMESTAMPTZ(3),
    "last_refresh_at" TIMESTAMPTZ(3),
    "facts" JSONB,
    "facts_at" TIMESTAMPTZ(3),
    "hostname" TEXT,
    "machine_id" TEXT,
    "os" TEXT,
    "kernel" TEXT,
    "arch" TEXT,
    "agent_version" TEXT,
    "store_total_bytes" BIGINT,
    "store_used_bytes" BIGINT,
    "enrolled_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "hosts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "installed_versions" (
    "host_id" UUID NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'app',
    "size_bytes" BIGINT,
    "received_uuid" TEXT,
    "signer" TEXT,
    "installed_at" TIMESTAMPTZ(3),
    "is_current" BOOLEAN NOT NULL DEFAULT false,
    "is_previous" BOOLEAN NOT NULL DEFAULT false,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "installed_versions_pkey" PRIMARY KEY ("host_id","app","version")
);

-- CreateTable
CREATE TABLE "installed_version_history" (
    "id" BIGSERIAL NOT NULL,
    "host_id" UUID NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'app',
    "size_bytes" BIGINT,
    "received_uuid" TEXT,
    "signer" TEXT,
    "is_current" BOOLEAN NOT NULL,
    "is_previous" BOOLEAN NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),

    CONSTRAINT "installed_version_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_events" (
    "id" BIGSERIAL NOT NULL,
    "host_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "detail" JSONB,
    "actor_id" TEXT,

    CONSTRAINT "host_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_groups" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "kind" TEXT NOT NULL,
    "filter" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_group_members" (
    "group_id" UUID NOT NULL,
    "host_id" UUID NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_group_members_pkey" PRIMARY KEY ("group_id","host_id")
);

-- CreateTable
CREATE TABLE "app_targets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "scope_kind" TEXT NOT NULL,
    "scope_key" TEXT NOT NULL,
    "group_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,

    CONSTRAINT "app_targets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "hosts_name_key" ON "hosts"("name");

-- CreateIndex
CREATE INDEX "hosts_labels_idx" ON "hosts" USING GIN ("labels" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "hosts_environment_name_idx" ON "hosts"("environment", "name");

-- CreateIndex
CREATE INDEX "hosts_os_name_idx" ON "hosts"("os", "name");

-- CreateIndex
CREATE INDEX "hosts_reachable_name_idx" ON "hosts"("reachable", "name");

-- CreateIndex
CREATE INDEX "hosts_last_seen_at_idx" ON "hosts"("last_seen_at");

-- CreateIndex
CREATE INDEX "hosts_last_refresh_at_idx" ON "hosts"("last_refresh_at");

-- CreateIndex
CREATE INDEX "installed_versions_is_current_app_version_idx" ON "installed_versions"("is_current", "app", "version");

-- CreateIndex
CREATE INDEX "installed_versions_app_version_idx" ON "installed_versions"("app", "version");

-- CreateIndex
CREATE INDEX "installed_version_history_host_id_app_valid_from_idx" ON "installed_version_history"("host_id", "app", "valid_from");

-- CreateIndex
CREATE INDEX "installed_version_history_as_of_idx" ON "installed_version_history"("app", "is_current", "valid_from", "valid_to", "version", "host_id");

-- CreateIndex
CREATE INDEX "host_events_host_id_at_idx" ON "host_events"("host_id", "at" DESC);

-- CreateIndex
CREATE INDEX "host_events_at_idx" ON "host_events"("at");

-- CreateIndex
CREATE UNIQUE INDEX "host_groups_name_key" ON "host_groups"("name");

-- CreateIndex
CREATE INDEX "host_group_members_host_id_idx" ON "host_group_members"("host_id");

-- CreateIndex
CREATE UNIQUE INDEX "app_targets_app_scope_kind_scope_key_key" ON "app_targets"("app", "scope_kind", "scope_key");

-- AddForeignKey
ALTER TABLE "installed_versions" ADD CONSTRAINT "installed_versions_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "installed_version_history" ADD CONSTRAINT "installed_version_history_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "host_events" ADD CONSTRAINT "host_events_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "host_group_members" ADD CONSTRAINT "host_group_members_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "host_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "host_group_members" ADD CONSTRAINT "host_group_members_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "app_targets" ADD CONSTRAINT "app_targets_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "host_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;
