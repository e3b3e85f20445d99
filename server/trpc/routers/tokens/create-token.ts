import { signedInProcedure } from "@/server/trpc/init";
import { enforcePolicy } from "@/server/services/policy/governed/govern";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { ZCreateTokenRequest, ZCreateTokenResponse } from "./schemas";

/** A token for the caller, acting with the caller's roles (an auditor's token can only read); from a session only. */
export const createTokenRoute = signedInProcedure
  .input(ZCreateTokenRequest)
  .output(ZCreateTokenResponse)
  .mutation(async ({ ctx, input }) => {
    await enforcePolicy({ db: ctx.db }, ctx.user, "manage_tokens", {
      hosts: [],
      summary: `create the API token ${input.name}`,
    });
    return createApiToken({ db: ctx.db, userId: ctx.user.id, via: ctx.via, ...input });
  });
