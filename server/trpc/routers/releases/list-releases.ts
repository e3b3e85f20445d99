import { procedureFor } from "@/server/trpc/init";
import { listReleases } from "@/server/services/releases/list-releases";
import { ZListReleasesRequest, ZListReleasesResponse } from "./schemas";

/** Releases per app, newest version first, with how many hosts have each. */
export const listReleasesRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZListReleasesRequest)
  .output(ZListReleasesResponse)
  .query(({ ctx, input }) => listReleases({ db: ctx.db }, input));
