// The identity provider Keel signs people in with: from KEEL_OIDC_* (automated installs, they take
// precedence) or from Settings (the oidc_config row, client secret sealed like signing keys).
// Who set the settings and who approved them vouch for the roles the mapping grants (decision 0020).
import type { PrismaClient } from "@prisma/client";
import type { Env } from "@/server/env";
import type { SecretBox } from "@/server/services/keys/secret-box";
import { parseRoleMap, type RoleMapEntry } from "./role-map";

/** GCM additional data of the sealed client secret: a sealed value from elsewhere does not open. */
export const CLIENT_SECRET_AAD = "oidc-client-secret";

export type OidcSettings = {
  source: "env" | "settings";
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  groupClaim: string;
  roleMap: RoleMapEntry[];
  localSignIn: boolean;
  breakGlassEmail: string;
  /** The vouchers of directory-granted roles: who set these settings (null: where Keel is installed) and who approved them. */
  grantedById: string | null;
  approvedByIds: string[];
};

export type SettingsDeps = { db: PrismaClient; env: Env; box: () => SecretBox };

/** The settings in force, or null when no provider is configured (local accounts only). */
export async function loadOidcSettings(deps: SettingsDeps): Promise<OidcSettings | null> {
  const env = deps.env;
  if (!!env.KEEL_OIDC_ISSUER !== !!env.KEEL_OIDC_CLIENT_ID)
    throw new Error(
      "set both KEEL_OIDC_ISSUER and KEEL_OIDC_CLIENT_ID (or neither, to use the settings made in the console)",
    );
  if (env.KEEL_OIDC_ISSUER && env.KEEL_OIDC_CLIENT_ID)
    return {
      source: "env",
      issuer: env.KEEL_OIDC_ISSUER,
      clientId: env.KEEL_OIDC_CLIENT_ID,
      clientSecret: env.KEEL_OIDC_CLIENT_SECRET ?? null,
      groupClaim: env.KEEL_OIDC_GROUP_CLAIM,
      roleMap: parseRoleMap(env.KEEL_OIDC_ROLE_MAP),
      localSignIn: env.KEEL_OIDC_LOCAL_SIGN_IN,
      breakGlassEmail: (env.KEEL_OIDC_BREAK_GLASS ?? env.KEEL_ADMIN_EMAIL).toLowerCase(),
      grantedById: null,
      approvedByIds: [],
    };
  const row = await deps.db.oidcConfig.findUnique({ where: { id: 1 } });
  if (!row) return null;
  return {
    source: "settings",
    issuer: row.issuer,
    clientId: row.clientId,
    clientSecret: row.clientSecretSealed
      ? deps.box().open(Buffer.from(row.clientSecretSealed), CLIENT_SECRET_AAD).toString("utf8")
      : null,
    groupClaim: row.groupClaim,
    roleMap: row.roleMap as RoleMapEntry[],
    localSignIn: row.localSignIn,
    breakGlassEmail: (row.breakGlassEmail ?? env.KEEL_ADMIN_EMAIL).toLowerCase(),
    grantedById: row.updatedById,
    approvedByIds: row.approvedByIds,
  };
}
