import { router } from "@/server/trpc/init";
import { createKeyRoute } from "./create-key";
import { importKeyRoute } from "./import-key";
import { listKeysRoute } from "./list-keys";
import { retireKeyRoute } from "./retire-key";

export const keysRouter = router({
  list: listKeysRoute,
  create: createKeyRoute,
  import: importKeyRoute,
  retire: retireKeyRoute,
});
