import { procedureFor } from "@/server/trpc/init";
import { getBuildSupport } from "@/server/services/releases/get-build-support";
import { ZBuildSupport } from "./schemas";

/** Whether this console can build releases (its data directory is on btrfs), for the upload page. */
export const buildSupportRoute = procedureFor(["admin", "operator"])
  .output(ZBuildSupport)
  .query(({ ctx }) => getBuildSupport(ctx.services.releases(ctx.db, ctx.user.id)));
