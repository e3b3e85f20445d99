// Sets (or removes) the identity provider from Settings: a governed manage_users action
// (server/services/policy/governed/oidc-ops.ts) since the role map decides who gets which role.
// The client secret arrives already sealed (the router seals it), so neither a change request nor
// the audit log ever holds it in clear. Whoever sets the settings, with their approvers, vouches for
// the roles the directory grants under them (decision 0020).
import type { PrismaClient } from "@prisma/client";
import { forgetProviders } from "@/server/auth/oidc/client";
import { formatRoleMap, type RoleMapEntry } from "@/server/auth/oidc/role-map";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";

export type OidcConfigInput = {
  issuer: string;
  clientId: string;
  /** base64 of the sealed secret; null: no secret (public client); undefined: keep the stored one */
  clientSecretSealed?: string | null;
  groupClaim: string;
  roleMap: RoleMapEntry[];
  localSignIn: boolean;
  breakGlassEmail: string | null;
};

/** Refuses settings that could not work or would lock everyone out; returns the issuer as entered. */
export function checkOidcInput(i: OidcConfigInput): void {
  let url: URL;
  try {
    url = new URL(i.issuer);
  } catch {
    throw new AppError("BAD_REQUEST", {
      message: `issuer "${i.issuer}" is not a URL: give the provider's issuer, e.g. https://login.example.org/realms/acme`,
    });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
    throw new AppError("BAD_REQUEST", {
      message: `issuer ${i.issuer} must use https (plain http only for a provider on this machine)`,
    });
  if (i.roleMap.length === 0)
    throw new AppError("BAD_REQUEST", {
      message: "the role map is empty: map at least one group to a role, e.g. keel-admins:admin",
    });
}

export async function configureOidc(
  deps: { db: PrismaClient; actorId: string; approvedBy: string[] },
  i: OidcConfigInput,
): Promise<{ issuer: string }> {
  checkOidcInput(i);
  return deps.db.$transaction(async (tx) => {
    const before = await tx.oidcConfig.findUnique({ where: { id: 1 } });
    const sealed =
      i.clientSecretSealed === undefined
        ? (before?.clientSecretSealed ?? null)
        : i.clientSecretSealed === null
          ? null
          : new Uint8Array(Buffer.from(i.clientSecretSealed, "base64"));
    const data = {
      issuer: i.issuer,
      clientId: i.clientId,
      clientSecretSealed: sealed,
      groupClaim: i.groupClaim,
      roleMap: i.roleMap,
      localSignIn: i.localSignIn,
      breakGlassEmail: i.breakGlassEmail?.toLowerCase() ?? null,
      updatedById: deps.actorId,
      approvedByIds: deps.approvedBy,
      updatedAt: new Date(),
    };
    await tx.oidcConfig.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "oidc.configure",
      target: `oidc:${i.issuer}`,
      detail: {
        clientId: i.clientId,
        secret: i.clientSecretSealed === undefined ? "kept" : i.clientSecretSealed === null ? "none" : "set",
        groupClaim: i.groupClaim,
        roleMap: formatRoleMap(i.roleMap),
        localSignIn: i.localSignIn,
        breakGlassEmail: data.breakGlassEmail,
        approvedBy: deps.approvedBy,
        before: before
          ? {
              issuer: before.issuer,
              clientId: before.clientId,
              roleMap: formatRoleMap(before.roleMap as RoleMapEntry[]),
              localSignIn: before.localSignIn,
            }
          : null,
      },
    });
    forgetProviders();
    return { issuer: i.issuer };
  });
}

/** Removes the provider: its accounts stop within the bounded time (they cannot be re-checked). */
export async function removeOidc(deps: { db: PrismaClient; actorId: string }): Promise<{ removed: boolean }> {
  return deps.db.$transaction(async (tx) => {
    const before = await tx.oidcConfig.findUnique({ where: { id: 1 } });
    if (!before) return { removed: false };
    await tx.oidcConfig.delete({ where: { id: 1 } });
    await appendAudit(tx, {
      actorId: deps.actorId,
      action: "oidc.remove",
      target: `oidc:${before.issuer}`,
      detail: { clientId: before.clientId },
    });
    forgetProviders();
    return { removed: true };
  });
}
