import { signedInProcedure } from "../../init";
import { createApiToken } from "../../../services/tokens/create-api-token";
import { ZCreateTokenRequest, ZCreateTokenResponse } from "./schemas";

/** A token for the caller, acting with the caller's roles (an auditor's token can only read); from a session only. */
export const createTokenRoute = signedInProcedure
  .input(ZCreateTokenRequest)
  .output(ZCreateTokenResponse)
  .mutation(({ ctx, input }) => createApiToken({ db: ctx.db, userId: ctx.user.id, via: ctx.via, ...input }));
