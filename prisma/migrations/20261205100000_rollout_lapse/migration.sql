-- Rollouts: when something a decision rests on changed (a host's environment, labels or groups,
-- the artifact the plan names), the rollout's approvals lapse; the reason and time are kept until
-- the rollout is planned again (docs/rollouts.md, decision 0014).

-- AlterTable
ALTER TABLE "rollouts" ADD COLUMN "lapse_reason" TEXT,
ADD COLUMN "lapsed_at" TIMESTAMPTZ(3);
