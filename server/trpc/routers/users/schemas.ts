import { z } from "zod";
import { ROLES } from "@/server/auth/roles";
import { PASSWORD_MAX, PASSWORD_MIN } from "@/server/auth/password";

export const ZRole = z.enum(ROLES);
export const ZUserId = z.uuid();

export const ZUserSummary = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  roles: z.array(ZRole),
  disabled: z.boolean(),
  createdAt: z.date(),
});

export const ZListUsersResponse = z.array(
  ZUserSummary.extend({
    activeSessions: z.number().int(),
    lastSignInAt: z.date().nullable(),
    grants: z.array(
      z.object({
        role: z.string(),
        via: z.string(),
        grantedBy: z.string().nullable(),
        approvedBy: z.array(z.string()),
        grantedAt: z.date(),
      }),
    ),
  }),
);

export const ZCreateUserRequest = z.strictObject({
  email: z.email().max(254),
  name: z.string().trim().min(1).max(100),
  roles: z.array(ZRole).max(ROLES.length),
  /** Omit to have a password generated and returned once. */
  password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX).optional(),
});
export type TCreateUserRequest = z.infer<typeof ZCreateUserRequest>;

export const ZCreateUserResponse = z.object({ user: ZUserSummary, password: z.string().nullable() });

export const ZSetRolesRequest = z.strictObject({ userId: ZUserId, roles: z.array(ZRole).max(ROLES.length) });
export const ZUserIdRequest = z.strictObject({ userId: ZUserId });
