// What each procedure answers, as the client sees it: derived from the router's type, so the
// pages never repeat a server type by hand.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** A rollout's plan (preview, rollout page). */
export type RolloutPlan = RouterOutputs["rollouts"]["preview"]["plan"];
