// The identity provider in Settings (docs/auth.md): read by admins and auditors, set or removed by
// admins as governed manage_users actions. The client secret is sealed here, before the change
// request or the apply sees it, and never read back.
import { z } from "zod";
import { procedureFor, router } from "@/server/trpc/init";
import { CLIENT_SECRET_AAD, loadOidcSettings } from "@/server/auth/oidc/settings";
import { formatRoleMap, parseRoleMap } from "@/server/auth/oidc/role-map";
import { getEnv } from "@/server/env";
import { AppError } from "@/server/errors";
import { governed } from "@/server/services/policy/governed/govern";

const ZSettings = z
  .object({
    source: z.enum(["env", "settings"]),
    issuer: z.string(),
    clientId: z.string(),
    hasClientSecret: z.boolean(),
    groupClaim: z.string(),
    roleMap: z.string(),
    localSignIn: z.boolean(),
    breakGlassEmail: z.string(),
  })
  .nullable();

const ZSet = z.strictObject({
  issuer: z.string().trim().min(1).max(500),
  clientId: z.string().trim().min(1).max(300),
  /** A new secret; omitted: keep the stored one; "": none (public client with PKCE). */
  clientSecret: z.string().max(2000).optional(),
  groupClaim: z.string().trim().min(1).max(100).default("groups"),
  roleMap: z.string().max(10_000),
  localSignIn: z.boolean(),
  breakGlassEmail: z.email().nullable().default(null),
});

function refuseWhenEnv() {
  if (getEnv().KEEL_OIDC_ISSUER)
    throw new AppError("PRECONDITION_FAILED", {
      message:
        "the identity provider is set by KEEL_OIDC_* environment variables on this console: change them there and restart",
    });
}

export const oidcRouter = router({
  get: procedureFor(["admin", "auditor"])
    .output(ZSettings)
    .query(async ({ ctx }) => {
      const s = await loadOidcSettings({ db: ctx.db, env: getEnv(), box: ctx.services.govern(ctx.db).box! });
      if (!s) return null;
      const { clientSecret, roleMap, ...rest } = s;
      return {
        source: rest.source,
        issuer: rest.issuer,
        clientId: rest.clientId,
        hasClientSecret: !!clientSecret,
        groupClaim: rest.groupClaim,
        roleMap: formatRoleMap(roleMap),
        localSignIn: rest.localSignIn,
        breakGlassEmail: rest.breakGlassEmail,
      };
    }),
  set: procedureFor(["admin"])
    .input(ZSet)
    .output(z.strictObject({ issuer: z.string() }))
    .mutation(async ({ ctx, input }) => {
      refuseWhenEnv();
      const deps = ctx.services.govern(ctx.db);
      const { clientSecret, roleMap, ...rest } = input;
      const sealed =
        clientSecret === undefined
          ? undefined
          : clientSecret === ""
            ? null
            : deps.box!().seal(Buffer.from(clientSecret, "utf8"), CLIENT_SECRET_AAD).toString("base64");
      return governed(deps, ctx.user, "oidc.configure", {
        ...rest,
        roleMap: parseRoleMap(roleMap),
        clientSecretSealed: sealed,
      });
    }),
  remove: procedureFor(["admin"])
    .output(z.strictObject({ removed: z.boolean() }))
    .mutation(async ({ ctx }) => {
      refuseWhenEnv();
      return governed(ctx.services.govern(ctx.db), ctx.user, "oidc.remove", {});
    }),
});
