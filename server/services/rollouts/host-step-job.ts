// What a rollout host-step job carries on the pg-boss queue and the queue's name. A job only names a
// host step; the truth about the step lives in rollout_hosts. Services queue these jobs
// (advance-rollout.ts); server/jobs/rollouts opens the queue and runs them.
export const HOST_STEP_QUEUE = "rollout-host-step";
export type HostStepJob = { rolloutId: string; hostId: string; key: string };
