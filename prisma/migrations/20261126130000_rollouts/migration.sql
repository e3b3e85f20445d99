-- Rollouts under the approval policy: policy versions, rollouts, per-host steps, approvals.
-- Written by hand to match prisma/schema/rollouts.prisma.

-- CreateTable
CREATE TABLE "policy_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "version" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "digest" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "created_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(3),

    CONSTRAINT "policy_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "number" SERIAL NOT NULL,
    "action" TEXT NOT NULL,
    "app" TEXT NOT NULL,
    "version" TEXT,
    "targets" JSONB NOT NULL,
    "wave_spec" TEXT[],
    "wave_sizes" INTEGER[],
    "failure_threshold" INTEGER NOT NULL,
    "parallelism" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "plan_digest" TEXT NOT NULL,
    "decision" JSONB NOT NULL,
    "policy_version" INTEGER NOT NULL,
    "required_approvals" INTEGER NOT NULL DEFAULT 0,
    "approver_role" TEXT,
    "current_wave" INTEGER NOT NULL DEFAULT 0,
    "pause_reason" TEXT,
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_hosts" (
    "rollout_id" UUID NOT NULL,
    "host_id" UUID NOT NULL,
    "host_name" TEXT NOT NULL,
    "wave" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "stream_kind" TEXT NOT NULL,
    "parent_version" TEXT,
    "planned_bytes" BIGINT NOT NULL DEFAULT 0,
    "disk_needed" BIGINT NOT NULL DEFAULT 0,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "step" TEXT,
    "bytes_sent" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "idempotency_key" TEXT NOT NULL,
    "claimed_by" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollout_hosts_pkey" PRIMARY KEY ("rollout_id","host_id")
);

-- CreateTable
CREATE TABLE "approvals" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "subject_kind" TEXT NOT NULL,
    "subject_id" UUID NOT NULL,
    "digest" TEXT NOT NULL,
    "approver_id" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "approvals_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "policy_versions_version_key" ON "policy_versions"("version");

-- CreateIndex
CREATE UNIQUE INDEX "rollouts_number_key" ON "rollouts"("number");

-- CreateIndex
CREATE INDEX "rollouts_state_created_at_idx" ON "rollouts"("state", "created_at");

-- CreateIndex
CREATE INDEX "rollouts_app_created_at_idx" ON "rollouts"("app", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_hosts_idempotency_key_key" ON "rollout_hosts"("idempotency_key");

-- CreateIndex
CREATE INDEX "rollout_hosts_rollout_id_wave_state_idx" ON "rollout_hosts"("rollout_id", "wave", "state");

-- CreateIndex
CREATE INDEX "rollout_hosts_host_id_idx" ON "rollout_hosts"("host_id");

-- CreateIndex
CREATE UNIQUE INDEX "approvals_subject_kind_subject_id_digest_approver_id_key" ON "approvals"("subject_kind", "subject_id", "digest", "approver_id");

-- CreateIndex
CREATE INDEX "approvals_subject_kind_subject_id_idx" ON "approvals"("subject_kind", "subject_id");

-- AddForeignKey
ALTER TABLE "rollout_hosts" ADD CONSTRAINT "rollout_hosts_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
