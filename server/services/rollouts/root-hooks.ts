// Which hosts of a plan run an activation hook as root (decision 0022): an update runs the new
// version's onActivate (and, when it reverts, the old version's); a rollback runs the onActivate
// of the version that becomes current again. Each comes from that release's signed manifest.
// The count goes into plan.rootCommands ("activation hook"), so the plan, the approval card and
// the policy (`context.rootHook`, `context.runsAsRoot`) see it before anything runs.
import type { PrismaClient } from "@prisma/client";
import { hookRunsAsRoot, type OnActivate } from "@/agent/protocol";
import type { PlanHost, RolloutPlan } from "./types";

export async function addRootHooks(db: PrismaClient, plan: RolloutPlan, hosts: PlanHost[]): Promise<void> {
  if (plan.kind === "runtime") return; // hooks are an app's (a runtime rollout runs none)
  const working = hosts.filter(
    (h) => h.action === "install" || h.action === "update" || h.action === "rollback",
  );
  const versions = [
    ...new Set(
      working.flatMap((h) => [h.to, h.action === "update" ? h.from : null]).filter((v): v is string => !!v),
    ),
  ];
  if (!versions.length) return;
  const rows = await db.release.findMany({
    where: { app: plan.app, version: { in: versions } },
    select: { version: true, manifest: true },
  });
  const root = new Set(
    rows
      .filter((r) => hookRunsAsRoot((JSON.parse(r.manifest) as { onActivate?: OnActivate }).onActivate))
      .map((r) => r.version),
  );
  // A version the console no longer knows may declare anything: counted as a root hook (fail safe).
  // (Only where it becomes current by the plan itself: a rollback's target.)
  for (const h of working)
    if (h.action === "rollback" && h.to && !rows.some((r) => r.version === h.to)) root.add(h.to);
  const n = working.filter(
    (h) => (h.to && root.has(h.to)) || (h.action === "update" && h.from && root.has(h.from)),
  ).length;
  if (!n) return;
  const prev = plan.rootCommands;
  plan.rootCommands = {
    commands: [...(prev?.commands ?? []), "activation hook"],
    hosts: Math.max(prev?.hosts ?? 0, n),
  };
}

/** For the policy: does the plan run an activation hook as root anywhere? */
export function plansRootHook(plan: Pick<RolloutPlan, "rootCommands">): boolean {
  return !!plan.rootCommands?.commands.includes("activation hook");
}
