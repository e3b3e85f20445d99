import { procedureFor } from "@/server/trpc/init";
import { listHosts } from "@/server/services/inventory/list-hosts";
import { READERS, ZHostPage, ZListHostsRequest } from "./schemas";

/** The host list: filtered, sorted and paged on the server. */
export const listHostsRoute = procedureFor(READERS)
  .input(ZListHostsRequest)
  .output(ZHostPage)
  .query(({ ctx, input }) => listHosts({ db: ctx.db }, input));
