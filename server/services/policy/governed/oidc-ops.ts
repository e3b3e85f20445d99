// The identity provider's settings as governed actions. They are manage_users: the role map decides
// who holds which role, so the policy sees every role the new map can grant (context.grantRoles) —
// under the default policy a map that grants admin or approver needs an approver, and that approver
// is recorded as a voucher of every directory grant made under it (decision 0020).
import { mappedRoles } from "@/server/auth/oidc/role-map";
import { configureOidc, removeOidc, type OidcConfigInput } from "@/server/services/oidc/configure-oidc";
import { op } from "./types";

export const oidcOps = {
  "oidc.configure": op({
    action: "manage_users",
    async describe(_db, i: OidcConfigInput) {
      const roles = mappedRoles(i.roleMap);
      return {
        hosts: [],
        grantRoles: roles,
        summary: `sign in with ${i.issuer} (client ${i.clientId}), groups granting ${roles.join(", ") || "(none)"}, local sign-in ${i.localSignIn ? "on" : `off except ${i.breakGlassEmail ?? "the first admin"}`}`,
      };
    },
    apply: (d, a, i, approved) =>
      configureOidc({ db: d.db, actorId: a.id, approvedBy: approved?.approvedBy ?? [] }, i),
  }),
  "oidc.remove": op({
    action: "manage_users",
    describe: async () => ({ hosts: [], summary: "stop signing in with the identity provider" }),
    apply: (d, a) => removeOidc({ db: d.db, actorId: a.id }),
  }),
};
