// Removes a host from the inventory by retiring it (docs/decisions/0008-retired-hosts.md): its row
// moves from `hosts` to `retired_hosts` with its last known facts, its open history periods end
// now, and a host.retired event closes its timeline — all in one transaction. The history and the
// timeline stay, so "what ran on it last Tuesday" is still answered (host page by id, "as of"
// views, distribution as of T); current views, drift, refreshes and rollouts no longer see it.
// Admin-only and audited as host.remove.
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { now, type InventoryDeps } from "@/server/services/inventory/types";

export async function removeHost(
  deps: InventoryDeps,
  input: { actorId: string | null; id: string },
): Promise<{ id: string; name: string; retiredAt: Date }> {
  const at = now(deps);
  return deps.db.$transaction(async (tx) => {
    // The row lock orders this after a refresh of the same host that is recording (and before the next).
    const [host] = await tx.$queryRaw<
      { id: string; name: string; address: string; host_key_fingerprint: string }[]
    >(
      Prisma.sql`SELECT id, name, address, host_key_fingerprint FROM hosts WHERE id = ${input.id}::uuid FOR UPDATE`,
    );
    if (!host) throw new AppError("NOT_FOUND", { message: `host ${input.id} is not enrolled` });
    await tx.$executeRaw(Prisma.sql`
      INSERT INTO retired_hosts (id, name, address, port, "user", host_key_fingerprint, environment, labels, facts, hostname, machine_id,
                                 os, kernel, arch, agent_version, last_seen_at, enrolled_by, created_at, retired_at, retired_by)
      SELECT id, name, address, port, "user", host_key_fingerprint, environment, labels, facts, hostname, machine_id,
             os, kernel, arch, agent_version, last_seen_at, enrolled_by, created_at, ${at}, ${input.actorId}
      FROM hosts WHERE id = ${host.id}::uuid`);
    await tx.installedVersionHistory.updateMany({
      where: { hostId: host.id, validTo: null },
      data: { validTo: at },
    });
    await tx.hostEvent.create({
      data: {
        hostId: host.id,
        at,
        kind: "host.retired",
        message: "removed from the inventory; history kept",
        actorId: input.actorId,
      },
    });
    // installed_versions (via the BEFORE DELETE trigger, which keeps app_version_counts) and group
    // memberships go with the row.
    await tx.host.delete({ where: { id: host.id } });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "host.remove",
      target: `host:${host.name}`,
      detail: {
        id: host.id,
        address: host.address,
        fingerprint: host.host_key_fingerprint,
        retiredAt: at.toISOString(),
      },
    });
    return { id: host.id, name: host.name, retiredAt: at };
  });
}
