// Builds the policy's view of a rollout: its hosts with their *current* environment, static groups
// and labels, read from the database (or passed in, read in the caller's transaction) — never the
// plan's copy, which is only what the approvers saw (decision-facts.ts compares the two).
import type { Prisma, PrismaClient } from "@prisma/client";
import type { PolicyRequest, PolicyTargetHost, Role } from "@/server/services/policy/types";
import { readHostFacts, workingHosts } from "./decision-facts";
import type { HostFacts, RolloutPlan } from "./types";
import { plansRootHook } from "./root-hooks";

export async function rolloutPolicyRequest(
  db: PrismaClient | Prisma.TransactionClient,
  actor: { id: string; roles: readonly string[] },
  plan: RolloutPlan,
  {
    at,
    assumeWindowsOpen,
    live,
  }: {
    at: Date;
    /** Planning and approving assume the windows open (the real time is checked at start and dispatch). */
    assumeWindowsOpen: boolean;
    /** Hosts' facts read in the caller's transaction; read here when not given. */
    live?: Map<string, HostFacts>;
  },
): Promise<PolicyRequest> {
  const working = workingHosts(plan);
  const facts =
    live ??
    (await readHostFacts(
      db,
      working.map((h) => h.hostId),
    ));
  const hosts: PolicyTargetHost[] = working.map((h) => {
    // A host no longer enrolled keeps what the plan said; the change itself stops the rollout.
    const f = facts.get(h.hostId) ?? {
      environment: h.environment,
      labels: h.labels ?? {},
      groups: h.groups ?? [],
    };
    return { name: h.name, environment: f.environment, groups: f.groups, labels: f.labels };
  });
  return {
    actor: { id: actor.id, roles: actor.roles as Role[] },
    action:
      plan.action === "rollback"
        ? "rollback"
        : hosts.length && working.every((h) => h.action === "install")
          ? "install"
          : "update",
    app: plan.app,
    releaseKind: plan.kind ?? "app",
    runtimes:
      plan.kind === "runtime" ? [plan.app] : working.flatMap((h) => (h.runtimes ?? []).map((r) => r.runtime)),
    hosts,
    runsAsRoot: !!plan.rootCommands,
    rootHook: plansRootHook(plan),
    waves: plan.waves,
    at,
    assumeWindowsOpen,
  };
}
