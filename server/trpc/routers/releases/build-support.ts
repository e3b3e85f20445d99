import { procedureFor } from "../../init";
import { getBuildSupport } from "@/server/services/releases/get-build-support";
import { releaseDeps } from "@/server/services/releases/deps";
import { ZBuildSupport } from "./schemas";

/** Whether this console can build releases (its data directory is on btrfs), for the upload page. */
export const buildSupportRoute = procedureFor(["admin", "operator"])
  .output(ZBuildSupport)
  .query(({ ctx }) => getBuildSupport(releaseDeps(ctx.db, ctx.user.id)));
