import { procedureFor } from "@/server/trpc/init";
import { getHostsAsOf } from "@/server/services/inventory/get-hosts-as-of";
import { READERS, ZAsOfRequest, ZAsOfResponse } from "./schemas";

/** What each host ran at a past time. */
export const asOfRoute = procedureFor(READERS)
  .input(ZAsOfRequest)
  .output(ZAsOfResponse)
  .query(({ ctx, input }) => getHostsAsOf({ db: ctx.db }, input));
