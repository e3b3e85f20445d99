import { router } from "@/server/trpc/init";
import { createTokenRoute } from "./create-token";
import { listTokensRoute } from "./list-tokens";
import { revokeTokenRoute } from "./revoke-token";

export const tokensRouter = router({
  list: listTokensRoute,
  create: createTokenRoute,
  revoke: revokeTokenRoute,
});
