// What a rollout's decision rests on, per host: its environment, labels and static groups. They are
// read from the database at every decision (create, approve, start, each dispatch) — never taken
// from the plan — and compared with what the plan (and so its digest, and the approvals bound to
// it) recorded. Any difference is a change the approvals did not see: see lapse-rollout.ts.
import type { Prisma, PrismaClient } from "@prisma/client";
import type { HostFacts, PlanHost, RolloutPlan } from "./types";

type Db = PrismaClient | Prisma.TransactionClient;

/** The hosts a decision is about: those the plan changes. */
export const workingHosts = (plan: RolloutPlan) => plan.hosts.filter((h) => h.action !== "nothing");

/** Live facts by host id; a host missing from the map is no longer enrolled. One query. */
export async function readHostFacts(db: Db, hostIds: string[]): Promise<Map<string, HostFacts>> {
  if (hostIds.length === 0) return new Map();
  const rows = await db.$queryRaw<
    {
      id: string;
      environment: string | null;
      labels: Record<string, string> | null;
      groups: string[] | null;
    }[]
  >`
    SELECT h.id::text AS id, h.environment, h.labels,
      (SELECT array_agg(g.name ORDER BY g.name) FROM host_group_members m JOIN host_groups g ON g.id = m.group_id WHERE m.host_id = h.id) AS groups
    FROM hosts h WHERE h.id = ANY(${hostIds}::uuid[])`;
  return new Map(
    rows.map((r) => [r.id, { environment: r.environment, labels: r.labels ?? {}, groups: r.groups ?? [] }]),
  );
}

const labelText = (l: Record<string, string>) =>
  Object.keys(l).length === 0
    ? "none"
    : Object.keys(l)
        .sort()
        .map((k) => `${k}=${l[k]}`)
        .join(", ");

/** How one host's facts differ from the plan's, in words ("moved from prod to dev"); [] if equal. */
export function hostFactChanges(planned: PlanHost, live: HostFacts | undefined): string[] {
  const name = `host ${planned.name}`;
  if (!live) return [`${name} is no longer enrolled`];
  // A plan made before plans recorded labels and groups cannot say what the approvers saw.
  if (!Array.isArray(planned.groups) || typeof planned.labels !== "object" || planned.labels === null)
    return [`${name}: the plan predates recording labels and groups with it`];
  const out: string[] = [];
  if ((planned.environment ?? null) !== (live.environment ?? null))
    out.push(
      `${name} moved from ${planned.environment ?? "no environment"} to ${live.environment ?? "no environment"}`,
    );
  if (labelText(planned.labels) !== labelText(live.labels))
    out.push(`${name}'s labels changed from ${labelText(planned.labels)} to ${labelText(live.labels)}`);
  const was = new Set(planned.groups);
  const now = new Set(live.groups);
  const joined = live.groups.filter((g) => !was.has(g));
  const left = planned.groups.filter((g) => !now.has(g));
  if (joined.length) out.push(`${name} joined group ${joined.join(", ")}`);
  if (left.length) out.push(`${name} left group ${left.join(", ")}`);
  return out;
}

/** Every change between the plan's facts and the live ones, across the plan's working hosts. */
export function factChanges(plan: RolloutPlan, live: Map<string, HostFacts>): string[] {
  return workingHosts(plan).flatMap((h) => hostFactChanges(h, live.get(h.hostId)));
}

/** Reads the live facts of the plan's working hosts and lists what changed (one query). */
export async function liveFactChanges(
  db: Db,
  plan: RolloutPlan,
): Promise<{ live: Map<string, HostFacts>; changes: string[] }> {
  const live = await readHostFacts(
    db,
    workingHosts(plan).map((h) => h.hostId),
  );
  return { live, changes: factChanges(plan, live) };
}

/** At most a few changes in one sentence (a mass relabel names the first three and counts the rest). */
export function describeChanges(changes: string[], when: string): string {
  const shown = changes.slice(0, 3).map((c) => `${c} ${when}`);
  const more = changes.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more change(s)` : "");
}
