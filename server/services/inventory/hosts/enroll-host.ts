// Enrolls one host. The admin has seen the fingerprint fetchHostKey returned and accepted it; the
// host must still present that key now (checked again when an SSH layer is given), then the host is
// pinned to it. Audited as host.enroll. With a trusted-key provider, the release-signing public
// keys are installed on the host right away; with `refresh`, facts are collected too.
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { refreshHost, type RefreshResult } from "@/server/services/inventory/refresh-host";
import { now, type InventoryDeps, type TrustedKeyFile } from "@/server/services/inventory/types";
import { ZEnrollHostRequest, type TEnrollHostRequest } from "./host-input";

export type EnrollHostResult = {
  id: string;
  name: string;
  keysInstalled: number | null;
  warning: string | null;
  refresh: RefreshResult | null;
};

export async function enrollHost(
  deps: InventoryDeps & { trustedKeys?: () => Promise<TrustedKeyFile[]> },
  input: TEnrollHostRequest & { actorId: string | null; via?: string; refresh?: boolean },
): Promise<EnrollHostResult> {
  const { actorId, via, refresh, ...raw } = input;
  const req = ZEnrollHostRequest.parse(raw);
  if (await deps.db.host.findUnique({ where: { name: req.name }, select: { id: true } }))
    throw new AppError("CONFLICT", { message: `a host named ${req.name} is already enrolled` });
  if (deps.ssh) {
    const seen = await deps.ssh
      .fetchHostKey({ name: req.name, address: req.address, port: req.port })
      .catch((e: Error) => {
        throw new AppError("HOST_UNREACHABLE", {
          message: `could not read the host key of ${req.name} (${req.address}:${req.port}): ${e.message}`,
          cause: e,
        });
      });
    if (seen.fingerprint !== req.acceptedFingerprint)
      throw new AppError("HOST_KEY_MISMATCH", {
        message: `${req.name} now presents ${seen.fingerprint}, not the accepted ${req.acceptedFingerprint}. Nothing was enrolled; fetch the fingerprint again and compare it with the host.`,
        details: { presented: seen.fingerprint, accepted: req.acceptedFingerprint },
      });
  }
  let id: string;
  const at = now(deps);
  try {
    id = await deps.db.$transaction(async (tx) => {
      const h = await tx.host.create({
        data: {
          name: req.name,
          address: req.address,
          port: req.port,
          user: req.user,
          sudoMode: req.sudoMode,
          environment: req.environment ?? null,
          labels: req.labels,
          hostKeyFingerprint: req.acceptedFingerprint,
          enrolledBy: actorId,
          createdAt: at,
        },
        select: { id: true },
      });
      await tx.hostEvent.create({
        data: {
          hostId: h.id,
          at,
          kind: "host.enrolled",
          message: `enrolled with host key ${req.acceptedFingerprint}${via ? ` (${via})` : ""}`,
          actorId,
        },
      });
      await appendAudit(tx, {
        actorId,
        action: "host.enroll",
        target: `host:${req.name}`,
        detail: {
          address: req.address,
          port: req.port,
          user: req.user,
          fingerprint: req.acceptedFingerprint,
          environment: req.environment ?? null,
          labels: req.labels,
          via: via ?? "console",
        },
      });
      return h.id;
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AppError("CONFLICT", { message: `a host named ${req.name} is already enrolled` });
    throw e;
  }

  let keysInstalled: number | null = null;
  let warning: string | null = null;
  if (deps.trustedKeys && deps.ssh?.installTrustedKeys) {
    const keys = await deps.trustedKeys();
    try {
      await deps.ssh.installTrustedKeys(
        {
          name: req.name,
          address: req.address,
          port: req.port,
          user: req.user,
          fingerprint: req.acceptedFingerprint,
          sudoMode: req.sudoMode,
        },
        keys,
      );
      keysInstalled = keys.length;
      await deps.db.hostEvent.create({
        data: {
          hostId: id,
          kind: "host.keys_installed",
          message: `${keys.length} release-signing key(s) installed`,
          actorId,
        },
      });
    } catch (e) {
      warning = `${req.name} is enrolled, but installing the release-signing keys failed: ${(e as Error).message}`;
      await deps.db.hostEvent.create({
        data: { hostId: id, kind: "host.keys_failed", message: warning, actorId },
      });
    }
  }
  const refreshed = refresh && deps.ssh ? await refreshHost(deps, id) : null;
  return { id, name: req.name, keysInstalled, warning, refresh: refreshed };
}
