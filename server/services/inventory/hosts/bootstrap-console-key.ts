// Enrollment's bootstrap step for a host that does not trust the console's key yet: the policy is
// asked as for enroll_host (allowed now, or refused and audited — it cannot wait for approvers,
// since the secret is never stored), then the admin's one-time password or private key is used for
// one SSH login that installs the console's public key (server/ssh/install-console-key.ts).
// Audited as host.console_key_installed (or host.console_key_failed) with how, never the secret.
import type { PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { enforcePolicy } from "@/server/services/policy/governed/govern";
import type { GovernActor } from "@/server/services/policy/governed/types";
import { installConsoleKey, type BootstrapCredential } from "@/server/ssh/install-console-key";
import type { TEnrollHostRequest } from "./host-input";
import { ZEnrollHostRequest } from "./host-input";

export type BootstrapDeps = {
  db: PrismaClient;
  consolePublicKey: () => string | null;
  install?: typeof installConsoleKey;
};

export type BootstrapResult = { name: string; added: boolean; method: "password" | "private key" };

export async function bootstrapConsoleKey(
  deps: BootstrapDeps,
  actor: GovernActor,
  input: TEnrollHostRequest & { credential: BootstrapCredential },
): Promise<BootstrapResult> {
  const { credential, ...raw } = input;
  const req = ZEnrollHostRequest.parse(raw);
  const method = "password" in credential ? "password" : "private key";
  await enforcePolicy({ db: deps.db }, actor, "enroll_host", {
    hosts: [{ name: req.name, environment: req.environment ?? null, groups: [], labels: req.labels }],
    summary: `install the console's SSH key on ${req.name} (${req.address}) with a one-time ${method}, to enroll it`,
  });
  const publicKey = deps.consolePublicKey();
  if (!publicKey)
    throw new AppError("PRECONDITION_FAILED", {
      message: "the console has no SSH key yet: it makes one when it starts (npm start)",
    });
  const detail = {
    address: req.address,
    port: req.port,
    user: req.user,
    fingerprint: req.acceptedFingerprint,
    method,
  };
  try {
    const r = await (deps.install ?? installConsoleKey)(
      { name: req.name, address: req.address, port: req.port, user: req.user },
      req.acceptedFingerprint,
      credential,
      publicKey,
    );
    await appendAudit(deps.db, {
      actorId: actor.id,
      action: "host.console_key_installed",
      target: `host:${req.name}`,
      detail: { ...detail, added: r.added },
    });
    return { name: req.name, added: r.added, method };
  } catch (e) {
    const message = (e as Error).message;
    await appendAudit(deps.db, {
      actorId: actor.id,
      action: "host.console_key_failed",
      target: `host:${req.name}`,
      detail: { ...detail, error: message },
    });
    const code = (e as { code?: string }).code;
    throw new AppError(
      code === "HOST_KEY_UNKNOWN"
        ? "HOST_KEY_MISMATCH"
        : code === "INVALID_ARGUMENT" || code === "AUTH_FAILED"
          ? "BAD_REQUEST"
          : "HOST_UNREACHABLE",
      {
        message: `${message} Nothing was enrolled.`,
        cause: e,
      },
    );
  }
}
