// Re-pins a host's key after it changed (reinstall, re-key). The admin has verified the new
// fingerprint on the machine; the host must present exactly that one. Clears the flag so refresh
// resumes. Audited as host.repin.
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import type { InventoryDeps } from "@/server/services/inventory/types";
import { ZFingerprint } from "./host-input";

export async function repinHostKey(
  deps: InventoryDeps,
  input: { actorId: string | null; id: string; acceptedFingerprint: string },
) {
  const fp = ZFingerprint.parse(input.acceptedFingerprint);
  const host = await deps.db.host.findUnique({
    where: { id: input.id },
    select: { id: true, name: true, address: true, port: true, hostKeyFingerprint: true },
  });
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${input.id} is not enrolled` });
  if (deps.ssh) {
    const seen = await deps.ssh.fetchHostKey({ name: host.name, address: host.address, port: host.port });
    if (seen.fingerprint !== fp)
      throw new AppError("HOST_KEY_MISMATCH", {
        message: `${host.name} presents ${seen.fingerprint}, not the accepted ${fp}; nothing changed`,
      });
  }
  await deps.db.$transaction(async (tx) => {
    await tx.host.update({
      where: { id: host.id },
      data: { hostKeyFingerprint: fp, hostKeyChanged: false, presentedKeyFingerprint: null, lastError: null },
    });
    await tx.hostEvent.create({
      data: {
        hostId: host.id,
        kind: "host.repinned",
        message: `host key re-pinned ${host.hostKeyFingerprint} → ${fp}`,
        actorId: input.actorId,
      },
    });
    await appendAudit(tx, {
      actorId: input.actorId,
      action: "host.repin",
      target: `host:${host.name}`,
      detail: { from: host.hostKeyFingerprint, to: fp },
    });
  });
  return { name: host.name, fingerprint: fp };
}
