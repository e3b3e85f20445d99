-- Rollouts: a start scheduled for a given time or the hosts' next maintenance window, carried out
-- by a rollout worker as the person who scheduled it (docs/rollouts.md, decision 0020). A start
-- that was refused clears the schedule and leaves its reason in schedule_error.

-- AlterTable
ALTER TABLE "rollouts" ADD COLUMN "scheduled_start_at" TIMESTAMPTZ(3),
ADD COLUMN "scheduled_by_id" TEXT,
ADD COLUMN "schedule_error" TEXT;

-- The worker's tick looks for due schedules only.
CREATE INDEX "rollouts_scheduled_start_at_idx" ON "rollouts"("scheduled_start_at") WHERE "scheduled_start_at" IS NOT NULL;
