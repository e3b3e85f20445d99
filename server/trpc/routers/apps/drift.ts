import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { getDriftReport } from "@/server/services/inventory/get-drift-report";
import { READERS, ZDriftRequest, ZDriftRow } from "./schemas";

/** Drift from the target versions per fleet, environment and group. */
export const driftRoute = procedureFor(READERS)
  .input(ZDriftRequest)
  .output(z.array(ZDriftRow))
  .query(({ ctx, input }) => getDriftReport({ db: ctx.db }, input));
