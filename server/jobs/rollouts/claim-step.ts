// What a host step needs before it may run, in one round trip: the claim of the step (only a queued
// step, or a running one whose worker stopped sending heartbeats), the rollout's row, the host's
// row with its live facts (environment, labels, static groups — what the policy keys on) and the
// version of the active policy, all read by the statement that claims. The rollout's plan is read
// once per plan digest per worker (a plan never changes under the same digest) and parsed once.
import type { Sql } from "@/server/db";
import { parseRolloutPlan } from "@/server/services/rollouts/plan-schema";
import type { HostConnectionRow } from "@/server/services/inventory/types";
import type { HostFacts, PlanHost, RolloutPlan } from "@/server/services/rollouts/types";

export type ClaimedStep = {
  attempts: number;
  wave: number;
  /** The version of the active policy when the step was claimed (verdicts are keyed by it). */
  policyVersion: number | null;
  rollout: StepRollout | null;
  host: HostConnectionRow | null;
  /** The host's live facts; undefined when the host is no longer enrolled. */
  facts: HostFacts | undefined;
};

type StepRollout = {
  id: string;
  number: number;
  state: string;
  action: string;
  app: string;
  version: string | null;
  planDigest: string;
  createdById: string;
  lapseReason: string | null;
};

/** The claim's one row: the rollout's and the host's columns side by side (ids and state renamed). */
type Row = Pick<ClaimedStep, "attempts" | "wave" | "policyVersion"> &
  Omit<StepRollout, "id" | "state"> &
  Omit<HostConnectionRow, "id"> & {
    rolloutId: string | null;
    rstate: string;
    hostId: string | null;
    environment: string | null;
    labels: Record<string, string> | null;
    groups: string[] | null;
  };

/** Claims the step and reads what it rests on; null when it is done already or a live worker has it. */
export async function claimStep(
  db: Sql,
  key: string,
  workerId: string,
  staleMs: number,
): Promise<ClaimedStep | null> {
  const [c] = await db.$queryRaw<Row[]>`
    WITH c AS (
      UPDATE rollout_hosts SET state = 'running', claimed_by = ${workerId}, heartbeat_at = now(),
        attempts = attempts + 1, started_at = COALESCE(started_at, now())
      WHERE idempotency_key = ${key}
        AND (state = 'queued' OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => ${staleMs / 1000})))
      RETURNING attempts, wave, rollout_id, host_id)
    SELECT c.attempts, c.wave,
      (SELECT max(version) FROM policy_versions WHERE state = 'active') AS "policyVersion",
      r.id::text AS "rolloutId", r.number, r.state AS rstate, r.action, r.app, r.version, r.plan_digest AS "planDigest",
      r.created_by_id AS "createdById", r.lapse_reason AS "lapseReason",
      h.id::text AS "hostId", h.name, h.address, h.port, h."user", h.host_key_fingerprint AS "hostKeyFingerprint",
      h.host_key_changed AS "hostKeyChanged", h.sudo_mode AS "sudoMode", h.environment, h.labels,
      (SELECT array_agg(g.name ORDER BY g.name) FROM host_group_members m JOIN host_groups g ON g.id = m.group_id WHERE m.host_id = h.id) AS groups
    FROM c LEFT JOIN rollouts r ON r.id = c.rollout_id LEFT JOIN hosts h ON h.id = c.host_id`;
  if (!c) return null;
  return {
    attempts: c.attempts,
    wave: c.wave,
    policyVersion: c.policyVersion,
    rollout: c.rolloutId
      ? {
          id: c.rolloutId,
          number: c.number,
          state: c.rstate,
          action: c.action,
          app: c.app,
          version: c.version,
          planDigest: c.planDigest,
          createdById: c.createdById,
          lapseReason: c.lapseReason,
        }
      : null,
    host: c.hostId
      ? {
          id: c.hostId,
          name: c.name,
          address: c.address,
          port: c.port,
          user: c.user,
          hostKeyFingerprint: c.hostKeyFingerprint,
          hostKeyChanged: c.hostKeyChanged,
          sudoMode: c.sudoMode,
        }
      : null,
    facts: c.hostId
      ? { environment: c.environment, labels: c.labels ?? {}, groups: c.groups ?? [] }
      : undefined,
  };
}

export type LoadedPlan = { raw: unknown; plan: RolloutPlan; byHost: Map<string, PlanHost> };
export type PlanCache = Map<string, Promise<LoadedPlan | null>>;

/**
 * The plan of rollout `id` under `digest`, read and parsed once per worker (steps dispatched
 * together share the one read in flight); null when the rollout carries another plan now.
 */
export function planOf(
  db: Sql,
  cache: PlanCache | undefined,
  r: { id: string; number: number; planDigest: string },
): Promise<LoadedPlan | null> {
  const key = `${r.id}:${r.planDigest}`;
  const hit = cache?.get(key);
  if (hit) return hit;
  const p = (async () => {
    const [row] = await db.$queryRaw<{ plan: unknown }[]>`
      SELECT plan FROM rollouts WHERE id = ${r.id}::uuid AND plan_digest = ${r.planDigest}`;
    if (!row) return null;
    const plan = parseRolloutPlan(row.plan, r.number);
    return { raw: row.plan, plan, byHost: new Map(plan.hosts.map((h) => [h.hostId, h])) };
  })();
  if (cache) {
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    cache.set(key, p);
    p.then(
      (x) => x ?? cache.delete(key),
      () => cache.delete(key),
    );
  }
  return p;
}
