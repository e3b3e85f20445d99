import { procedureFor } from "@/server/trpc/init";
import { getHostDetail } from "@/server/services/inventory/get-host-detail";
import { READERS, ZGetHostRequest, ZHostDetail } from "./schemas";

/** One host with facts, apps and versions, groups and timeline; `at` shows its state then. */
export const getHostRoute = procedureFor(READERS)
  .input(ZGetHostRequest)
  .output(ZHostDetail)
  .query(({ ctx, input }) => getHostDetail({ db: ctx.db }, input));
