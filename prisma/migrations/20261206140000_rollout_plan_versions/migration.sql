-- Every plan a rollout had, by digest, so that an approver can see what changed since the plan
-- someone approved (a re-plan replaces rollouts.plan). Written with each plan; removed with the rollout.

-- CreateTable
CREATE TABLE "rollout_plan_versions" (
    "rollout_id" UUID NOT NULL,
    "digest" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollout_plan_versions_pkey" PRIMARY KEY ("rollout_id","digest"),
    CONSTRAINT "rollout_plan_versions_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
