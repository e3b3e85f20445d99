import { router } from "@/server/trpc/init";
import { distributionRoute } from "./distribution";
import { driftRoute } from "./drift";
import { listAppsRoute } from "./list-apps";
import { listTargetsRoute } from "./list-targets";
import { listRuntimesRoute } from "./list-runtimes";
import { setTargetRoute } from "./set-target";

export const appsRouter = router({
  list: listAppsRoute,
  distribution: distributionRoute,
  drift: driftRoute,
  targets: listTargetsRoute,
  setTarget: setTargetRoute,
  runtimes: listRuntimesRoute,
});
