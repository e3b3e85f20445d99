// What the API shows of a user: never password hashes or session tokens.
import type { Prisma } from "@prisma/client";

export const userSelect = {
  id: true,
  email: true,
  name: true,
  roles: true,
  disabled: true,
  createdAt: true,
} satisfies Prisma.UserSelect;

export type UserSummary = Prisma.UserGetPayload<{ select: typeof userSelect }>;
