import { procedureFor } from "@/server/trpc/init";
import { listStaleHosts } from "@/server/services/inventory/list-stale-hosts";
import { READERS, ZHostPage, ZStaleRequest } from "./schemas";

/** Hosts not seen for a while, oldest first. */
export const staleHostsRoute = procedureFor(READERS)
  .input(ZStaleRequest)
  .output(ZHostPage)
  .query(({ ctx, input }) =>
    listStaleHosts({ db: ctx.db }, { ...input, olderThanMs: input.olderThanHours * 3600_000 }),
  );
