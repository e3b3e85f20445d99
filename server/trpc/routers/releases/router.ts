import { router } from "@/server/trpc/init";
import { buildSupportRoute } from "./build-support";
import { deleteReleaseRoute } from "./delete-release";
import { listReleasesRoute } from "./list-releases";
import { planStreamRoute } from "./plan-stream";
import { showReleaseRoute } from "./show-release";

// Push and build stream large bodies, so they are HTTP routes (app/api/releases/upload), not tRPC.
export const releasesRouter = router({
  list: listReleasesRoute,
  show: showReleaseRoute,
  delete: deleteReleaseRoute,
  buildSupport: buildSupportRoute,
  plan: planStreamRoute,
});
