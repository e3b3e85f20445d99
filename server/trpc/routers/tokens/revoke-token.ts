import { signedInProcedure } from "@/server/trpc/init";
import { enforcePolicy } from "@/server/services/policy/governed/govern";
import { revokeApiToken } from "@/server/services/tokens/revoke-api-token";
import { ZApiToken, ZRevokeTokenRequest } from "./schemas";

export const revokeTokenRoute = signedInProcedure
  .input(ZRevokeTokenRequest)
  .output(ZApiToken)
  .mutation(async ({ ctx, input }) => {
    await enforcePolicy({ db: ctx.db }, ctx.user, "manage_tokens", {
      hosts: [],
      summary: `revoke the API token ${input.tokenId}`,
    });
    return revokeApiToken({ db: ctx.db, actor: ctx.user, tokenId: input.tokenId });
  });
