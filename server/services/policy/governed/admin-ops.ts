// User and signing-key changes as governed actions. A user change that grants roles shows them to
// the policy (context.grantRoles); applied through a change request, the grant records its
// approvers, which is what lets an account become independent of the admin who made it
// (docs/decisions/0015-two-person-rule.md).
import type { Role } from "@prisma/client";
import { hashPassword } from "@/server/auth/password";
import { assertStrongPassword } from "@/server/auth/password-strength";
import { unlockSignIn } from "@/server/auth/unlock-sign-in";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { importPublicKey } from "@/server/services/keys/import-public-key";
import { retireSigningKey } from "@/server/services/keys/retire-signing-key";
import { createUser, generatePassword, type CreateUserInput } from "@/server/services/users/create-user";
import { revokeUserSessions } from "@/server/services/users/revoke-user-sessions";
import type { GrantProvenance } from "@/server/services/users/role-grants";
import { setUserDisabled } from "@/server/services/users/set-user-disabled";
import { setUserRoles } from "@/server/services/users/set-user-roles";
import { op, type Approved, type GovernActor } from "./types";
import { AppError } from "@/server/errors";

const provenance = (a: GovernActor, approved: Approved): GrantProvenance | undefined =>
  approved
    ? {
        via: "change",
        grantedById: a.id,
        approvedByIds: approved.approvedBy,
        changeRequestId: approved.changeRequestId,
      }
    : undefined;

async function userOf(db: Parameters<typeof setUserRoles>[0]["db"], userId: string) {
  const u = await db.user.findUnique({ where: { id: userId }, select: { email: true, roles: true } });
  if (!u) throw new AppError("NOT_FOUND", { message: `no user with id ${userId}` });
  return u;
}

export const adminOps = {
  "users.create": op({
    action: "manage_users",
    async describe(_db, i: CreateUserInput) {
      return {
        hosts: [],
        grantRoles: i.roles,
        summary: `create user ${i.email.trim().toLowerCase()} with roles ${i.roles.join(", ") || "(none)"}`,
      };
    },
    // The password is hashed when the request is made; a generated one is shown to the requester then, once.
    async prepare(i) {
      // Checked when the request is made: once hashed, the password cannot be judged any more.
      if (i.password !== undefined) assertStrongPassword(i.password, [i.email.trim().toLowerCase(), i.name]);
      const password = i.password ?? generatePassword();
      const { password: _p, ...rest } = i;
      return {
        stored: { ...rest, passwordHash: await hashPassword(password) },
        once: i.password ? undefined : { password },
      };
    },
    apply: (d, a, i, approved) =>
      createUser({ db: d.db, actorId: a.id, input: i, provenance: provenance(a, approved) }),
  }),
  "users.setRoles": op({
    action: "manage_users",
    async describe(db, i: { userId: string; roles: Role[] }) {
      const u = await userOf(db, i.userId);
      return {
        hosts: [],
        grantRoles: i.roles.filter((r) => !u.roles.includes(r)),
        summary: `roles of ${u.email}: ${u.roles.join(", ") || "(none)"} → ${i.roles.join(", ") || "(none)"}`,
      };
    },
    apply: (d, a, i, approved) =>
      setUserRoles({ db: d.db, actorId: a.id, ...i, provenance: provenance(a, approved) }),
  }),
  "users.disable": op({
    action: "manage_users",
    async describe(db, i: { userId: string }) {
      return { hosts: [], summary: `disable ${(await userOf(db, i.userId)).email}` };
    },
    apply: (d, a, i) => setUserDisabled({ db: d.db, actorId: a.id, userId: i.userId, disabled: true }),
  }),
  "users.enable": op({
    action: "manage_users",
    // Enabling an account gives its roles back: the policy sees them as granted.
    async describe(db, i: { userId: string }) {
      const u = await userOf(db, i.userId);
      return {
        hosts: [],
        grantRoles: u.roles,
        summary: `enable ${u.email} (${u.roles.join(", ") || "no roles"})`,
      };
    },
    apply: (d, a, i) => setUserDisabled({ db: d.db, actorId: a.id, userId: i.userId, disabled: false }),
  }),
  "users.revokeSessions": op({
    action: "manage_users",
    async describe(db, i: { userId: string }) {
      return { hosts: [], summary: `end the sessions of ${(await userOf(db, i.userId)).email}` };
    },
    apply: (d, a, i) => revokeUserSessions({ db: d.db, actorId: a.id, userId: i.userId }),
  }),
  "users.unlock": op({
    action: "manage_users",
    async describe(db, i: { userId: string }) {
      return { hosts: [], summary: `forget the failed sign-ins of ${(await userOf(db, i.userId)).email}` };
    },
    apply: (d, a, i) => unlockSignIn({ db: d.db, actorId: a.id, userId: i.userId }),
  }),
  "keys.create": op({
    action: "manage_keys",
    describe: async (_db, i: { name: string }) => ({
      hosts: [],
      summary: `create the console signing key ${i.name}`,
    }),
    apply: async (d, a, i) => {
      if (!d.box) throw new AppError("INTERNAL", { message: "keys.create needs the console's secret box" });
      const k = await createSigningKey({ db: d.db, box: d.box(), actorId: a.id }, i);
      return { keyId: k.keyId, name: k.name, publicKeyLine: k.publicKeyLine };
    },
  }),
  "keys.import": op({
    action: "manage_keys",
    describe: async (_db, i: { name: string; publicKey: string }) => ({
      hosts: [],
      summary: `trust the outside signer ${i.name} (${i.publicKey.slice(0, 60)})`,
    }),
    apply: (d, a, i) => importPublicKey({ db: d.db, actorId: a.id }, i),
  }),
  "keys.retire": op({
    action: "manage_keys",
    describe: async (_db, i: { keyId: string; remove?: boolean }) => ({
      hosts: [],
      summary: `${i.remove ? "remove" : "retire"} signing key ${i.keyId}`,
    }),
    apply: (d, a, i) => retireSigningKey({ db: d.db, actorId: a.id }, i),
  }),
};
