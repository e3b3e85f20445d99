import { z } from "zod";
import { ROLES } from "@/server/auth/roles";
import { signedInProcedure } from "@/server/trpc/init";

export const ZWhoamiResponse = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.enum(ROLES)),
  via: z.enum(["session", "token"]),
  sessionExpiresAt: z.date().nullable(),
});

export const whoamiRoute = signedInProcedure.output(ZWhoamiResponse).query(({ ctx }) => ({
  ...ctx.user,
  via: ctx.via ?? "session",
  sessionExpiresAt: ctx.session?.expiresAt ?? null,
}));
