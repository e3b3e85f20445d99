import { signedInProcedure } from "../../init";
import { revokeApiToken } from "../../../services/tokens/revoke-api-token";
import { ZApiToken, ZRevokeTokenRequest } from "./schemas";

export const revokeTokenRoute = signedInProcedure
  .input(ZRevokeTokenRequest)
  .output(ZApiToken)
  .mutation(({ ctx, input }) => revokeApiToken({ db: ctx.db, actor: ctx.user, tokenId: input.tokenId }));
