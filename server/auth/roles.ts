// Who someone is to the console: the four roles and the signed-in user as the server sees them.
// Shared by tRPC (server/trpc/init.ts), pages (viewer.ts) and the console's navigation (type only).
export const ROLES = ["admin", "operator", "approver", "auditor"] as const;
export type Role = (typeof ROLES)[number];

/** The signed-in user as the server sees them. */
export type ViewerUser = { id: string; email: string; name: string; roles: Role[] };
