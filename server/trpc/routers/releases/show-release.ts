import { procedureFor } from "@/server/trpc/init";
import { getRelease } from "@/server/services/releases/get-release";
import { ZReleaseDetail, ZReleaseRef } from "./schemas";

/** One release: its manifest, the hosts that have it, its cached incremental streams. */
export const showReleaseRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .input(ZReleaseRef)
  .output(ZReleaseDetail)
  .query(({ ctx, input }) => getRelease({ db: ctx.db }, input));
