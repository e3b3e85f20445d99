// `keel rollout plan`: the runtime lines of a plan (decision 0023) — per host the runtime its
// release requires that goes in first, and for a runtime's own rollout the apps it affects.
import type { PlanRuntime, RuntimeUse } from "@/server/services/rollouts/plan-runtimes-types";

/** What a line shows of a runtime step (the plan's own type, without its artifact and sizes). */
export type PlanRuntimeLine = Pick<PlanRuntime, "runtime" | "versions" | "from" | "to" | "stream" | "parent">;

export function runtimeLines(plan: {
  hosts: { name: string; runtimes?: PlanRuntimeLine[] }[];
  kind?: string;
  affects?: RuntimeUse[];
}): string[] {
  const out: string[] = [];
  if (plan.kind === "runtime")
    out.push(
      `runtime; apps using it: ${plan.affects?.length ? plan.affects.map((a) => `${a.app} ${a.version} (needs ${a.versions}) on ${a.hosts} host(s)`).join("; ") : "none"}`,
    );
  for (const h of plan.hosts)
    for (const r of h.runtimes ?? [])
      out.push(
        `${h.name}: + runtime ${r.runtime} ${r.from ?? "—"} → ${r.to} first (${r.stream === "delta" ? `delta from ${r.parent}` : r.stream}; needs ${r.versions})`,
      );
  return out;
}
