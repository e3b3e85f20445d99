// Creates an account that signs in with e-mail and password (better-auth's "credential" account).
// Without a password, one is generated and returned once so the admin can hand it over. Its roles
// are recorded as grants: by the actor, or as a founder's when there is no actor (made where Keel
// is installed, infra/start) — see docs/decisions/0015-two-person-rule.md.
import { randomBytes, randomUUID } from "node:crypto";
import { Prisma, type PrismaClient, type Role } from "@prisma/client";
import { AppError } from "@/server/errors";
import { hashPassword } from "@/server/auth/password";
import { assertStrongPassword } from "@/server/auth/password-strength";
import { appendAudit } from "@/server/services/audit/append-audit";
import { recordRoleGrants, type GrantProvenance } from "./role-grants";
import { userSelect, type UserSummary } from "./user-select";

/** `passwordHash`: a change request stores the hash of the password it returned to its requester. */
export type CreateUserInput = {
  email: string;
  name: string;
  roles: Role[];
  password?: string;
  passwordHash?: string;
};

export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

export async function createUser({
  db,
  actorId,
  input,
  provenance,
}: {
  db: PrismaClient;
  actorId: string | null;
  input: CreateUserInput;
  provenance?: GrantProvenance;
}): Promise<{ user: UserSummary; password: string | null }> {
  const email = input.email.trim().toLowerCase();
  // A chosen password must pass the strength estimator (a generated one always does).
  if (input.password !== undefined) assertStrongPassword(input.password, [email, input.name]);
  const password = input.password ?? generatePassword();
  const hash = input.passwordHash ?? (await hashPassword(password));
  const id = randomUUID();
  try {
    const user = await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { id, email, name: input.name.trim(), roles: [...new Set(input.roles)], emailVerified: true },
        select: userSelect,
      });
      await recordRoleGrants(
        tx,
        id,
        [],
        user.roles,
        provenance ?? (actorId ? { via: "direct", grantedById: actorId } : { via: "founder" }),
      );
      await tx.account.create({
        data: { id: randomUUID(), userId: id, accountId: id, providerId: "credential", password: hash },
      });
      await appendAudit(tx, {
        actorId,
        action: "user.create",
        target: `user:${email}`,
        detail: {
          roles: user.roles,
          ...(provenance?.via === "change" ? { approvedBy: provenance.approvedByIds } : {}),
        },
      });
      return user;
    });
    return { user, password: input.password || input.passwordHash ? null : password };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AppError("CONFLICT", { message: `a user with the e-mail ${email} already exists` });
    throw e;
  }
}
