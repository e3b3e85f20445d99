// Refreshes one host: connect with the pinned key, ensure the agent, collect facts, record them
// (or record why it failed). Never throws for a host problem: the result says what happened, so a
// fan-out over thousands of hosts carries on.
import { AppError } from "@/server/errors";
import { recordFacts } from "./record-facts";
import { recordRefreshFailure } from "./record-refresh-failure";
import type { InventoryDeps, PortError } from "./types";

export type RefreshStatus = "ok" | "unreachable" | "key-changed" | "skipped";
export type RefreshResult = {
  hostId: string;
  name: string;
  status: RefreshStatus;
  changed: boolean;
  message?: string;
  ms: number;
};

export async function refreshHost(deps: InventoryDeps, hostId: string): Promise<RefreshResult> {
  const started = Date.now();
  if (!deps.ssh)
    throw new AppError("PRECONDITION_FAILED", {
      message: "refresh needs the SSH layer, which this process was started without",
    });
  const host = await deps.db.host.findUnique({
    where: { id: hostId },
    select: {
      id: true,
      name: true,
      address: true,
      port: true,
      user: true,
      hostKeyFingerprint: true,
      hostKeyChanged: true,
      sudoMode: true,
    },
  });
  if (!host) throw new AppError("NOT_FOUND", { message: `host ${hostId} is not enrolled` });
  const done = (status: RefreshStatus, changed: boolean, message?: string): RefreshResult => ({
    hostId,
    name: host.name,
    status,
    changed,
    message,
    ms: Date.now() - started,
  });
  if (host.hostKeyChanged)
    return done(
      "skipped",
      false,
      `host ${host.name}: its host key changed; an admin must re-pin it before Keel talks to it again`,
    );
  try {
    const facts = await deps.ssh.collectFacts({
      name: host.name,
      address: host.address,
      port: host.port,
      user: host.user,
      fingerprint: host.hostKeyFingerprint,
      sudoMode: host.sudoMode,
    });
    const r = await recordFacts(deps, hostId, facts);
    return done("ok", r.changed);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const err = e as PortError;
    if (err.code === "HOST_KEY_CHANGED") {
      const presented = (err.details as { presented?: string } | undefined)?.presented ?? null;
      const message = `host ${host.name} presented a different host key${presented ? ` (${presented})` : ""}; nothing was sent. An admin must check the machine and re-pin its key.`;
      await recordRefreshFailure(deps, hostId, {
        kind: "key-changed",
        message,
        presentedFingerprint: presented,
      });
      return done("key-changed", false, message);
    }
    const message = err.message || String(e);
    await recordRefreshFailure(deps, hostId, { kind: "unreachable", message });
    return done("unreachable", false, message);
  }
}
