// Creates an account that signs in with e-mail and password (better-auth's "credential" account).
// Without a password, one is generated and returned once so the admin can hand it over.
import { randomBytes, randomUUID } from "node:crypto";
import { Prisma, type PrismaClient, type Role } from "@prisma/client";
import { AppError } from "../../errors";
import { hashPassword } from "../../auth/password";
import { assertStrongPassword } from "../../auth/password-strength";
import { appendAudit } from "../audit/append-audit";
import { userSelect, type UserSummary } from "./user-select";

export type CreateUserInput = { email: string; name: string; roles: Role[]; password?: string };

export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

export async function createUser({
  db,
  actorId,
  input,
}: {
  db: PrismaClient;
  actorId: string | null;
  input: CreateUserInput;
}): Promise<{ user: UserSummary; password: string | null }> {
  const email = input.email.trim().toLowerCase();
  // A chosen password must pass the strength estimator (a generated one always does).
  if (input.password !== undefined) assertStrongPassword(input.password, [email, input.name]);
  const password = input.password ?? generatePassword();
  const hash = await hashPassword(password);
  const id = randomUUID();
  try {
    const user = await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { id, email, name: input.name.trim(), roles: [...new Set(input.roles)], emailVerified: true },
        select: userSelect,
      });
      await tx.account.create({ data: { id: randomUUID(), userId: id, accountId: id, providerId: "credential", password: hash } });
      await appendAudit(tx, { actorId, action: "user.create", target: `user:${email}`, detail: { roles: user.roles } });
      return user;
    });
    return { user, password: input.password ? null : password };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")
      throw new AppError("CONFLICT", { message: `a user with the e-mail ${email} already exists` });
    throw e;
  }
}
