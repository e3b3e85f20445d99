import { z } from "zod";
import { signedInProcedure } from "@/server/trpc/init";
import { listApiTokens } from "@/server/services/tokens/list-api-tokens";
import { ZApiToken } from "./schemas";

/** The caller's own tokens. */
export const listTokensRoute = signedInProcedure
  .output(z.array(ZApiToken))
  .query(({ ctx }) => listApiTokens({ db: ctx.db, userId: ctx.user.id }));
