// Records a refresh that did not reach the host. The host keeps its last known facts and versions;
// it is marked unreachable with the error (last seen stays when it last answered). A changed host
// key flags the host so nothing talks to it until an admin re-pins the key.
import { Prisma } from "@prisma/client";
import type { Sql } from "@/server/db";
import { appendAudit } from "@/server/services/audit/append-audit";
import { now, type InventoryDeps } from "./types";

export type RefreshFailure = {
  kind: "unreachable" | "key-changed";
  message: string;
  presentedFingerprint?: string | null;
};

export async function recordRefreshFailure(
  deps: InventoryDeps,
  hostId: string,
  failure: RefreshFailure,
): Promise<void> {
  const at = now(deps);
  await deps.db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ name: string; reachable: boolean | null; host_key_changed: boolean }[]>(
      Prisma.sql`SELECT name, reachable, host_key_changed FROM hosts WHERE id = ${hostId}::uuid FOR UPDATE`,
    );
    const host = rows[0];
    if (!host) return;
    if (failure.kind === "key-changed") {
      await flagHostKeyChanged(tx, { id: hostId, ...host }, failure, at);
      await tx.host.update({ where: { id: hostId }, data: { lastRefreshAt: at } });
      return;
    }
    await tx.host.update({
      where: { id: hostId },
      data: { reachable: false, lastError: failure.message, lastRefreshAt: at },
    });
    if (host.reachable !== false)
      await tx.hostEvent.create({ data: { hostId, at, kind: "host.unreachable", message: failure.message } });
  });
}

/**
 * Flags a host whose SSH host key changed (a refresh or a rollout step met it), inside the caller's
 * transaction that holds the host row: nothing talks to it until an admin re-pins the key. The
 * host's timeline and the audit log (and so the notifications: host.key_changed) get it once,
 * when the host is first flagged.
 */
export async function flagHostKeyChanged(
  tx: Sql,
  host: { id: string; name: string; host_key_changed: boolean },
  failure: { message: string; presentedFingerprint?: string | null },
  at: Date,
): Promise<void> {
  const presented = failure.presentedFingerprint ?? null;
  // Raw SQL (what the model calls wrote, updated_at included): a rollout step flags a host inside
  // its final transaction, which runs on the worker's node-postgres pool (decision 0042).
  await tx.$executeRaw`
    UPDATE hosts SET host_key_changed = true, presented_key_fingerprint = ${presented},
      last_error = ${failure.message}, updated_at = ${new Date()}
    WHERE id = ${host.id}::uuid`;
  if (host.host_key_changed) return;
  await tx.$executeRaw`
    INSERT INTO host_events (host_id, at, kind, message, detail)
    VALUES (${host.id}::uuid, ${at}, 'host.key_changed', ${failure.message}, ${JSON.stringify({ presented })}::jsonb)`;
  await appendAudit(tx, {
    actorId: null,
    action: "host.key_changed",
    target: `host:${host.name}`,
    detail: { presented, message: failure.message },
  });
}
