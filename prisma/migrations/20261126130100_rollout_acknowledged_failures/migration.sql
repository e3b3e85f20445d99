-- Failures in the current wave that a person saw when they resumed a paused rollout; the wave's
-- threshold counts only failures beyond them. Reset when the next wave starts.
ALTER TABLE "rollouts" ADD COLUMN "acknowledged_failures" INTEGER NOT NULL DEFAULT 0;
