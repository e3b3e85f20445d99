// Builds the policy's view of a rollout: its hosts with environment, static groups and labels.
import type { PrismaClient } from "@prisma/client";
import type { PolicyRequest, PolicyTargetHost, Role } from "../policy/types";
import type { RolloutPlan } from "./types";

export async function rolloutPolicyRequest(
  db: PrismaClient,
  actor: { id: string; roles: readonly string[] },
  plan: RolloutPlan,
  at: Date,
  assumeWindowsOpen: boolean,
): Promise<PolicyRequest> {
  const working = plan.hosts.filter((h) => h.action !== "nothing");
  const ids = working.map((h) => h.hostId);
  const [rows, members] = await Promise.all([
    db.host.findMany({ where: { id: { in: ids } }, select: { id: true, labels: true } }),
    db.hostGroupMember.findMany({ where: { hostId: { in: ids } }, select: { hostId: true, group: { select: { name: true } } } }),
  ]);
  const labels = new Map(rows.map((r) => [r.id, (r.labels ?? {}) as Record<string, string>]));
  const groups = new Map<string, string[]>();
  for (const m of members) groups.set(m.hostId, [...(groups.get(m.hostId) ?? []), m.group.name]);
  const hosts: PolicyTargetHost[] = working.map((h) => ({
    name: h.name,
    environment: h.environment,
    groups: groups.get(h.hostId) ?? [],
    labels: labels.get(h.hostId) ?? {},
  }));
  return {
    actor: { id: actor.id, roles: actor.roles as Role[] },
    action: plan.action === "rollback" ? "rollback" : hosts.length && working.every((h) => h.action === "install") ? "install" : "update",
    app: plan.app,
    hosts,
    runsAsRoot: !!plan.rootCommands,
    waves: plan.waves,
    at,
    assumeWindowsOpen,
  };
}
