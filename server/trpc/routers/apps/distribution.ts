import { procedureFor } from "@/server/trpc/init";
import { getVersionDistribution } from "@/server/services/inventory/get-version-distribution";
import { READERS, ZDistribution, ZDistributionRequest } from "./schemas";

/** Hosts per current version of one app (optionally filtered, optionally as of a past time). */
export const distributionRoute = procedureFor(READERS)
  .input(ZDistributionRequest)
  .output(ZDistribution)
  .query(({ ctx, input }) => getVersionDistribution({ db: ctx.db }, input));
