import { procedureFor } from "@/server/trpc/init";
import { refreshHosts, resolveRefreshTargets } from "@/server/services/inventory/refresh-hosts";
import { ZRefreshRequest, ZRefreshResponse } from "./schemas";

/** Up to this many hosts the call waits for the results; more run in the background. */
const WAIT_LIMIT = 50;

/** Refresh one host, a selection, a filter or all now. */
export const refreshHostsRoute = procedureFor(["admin", "operator"])
  .input(ZRefreshRequest)
  .output(ZRefreshResponse)
  .mutation(async ({ ctx, input }) => {
    const deps = ctx.services.inventory(ctx.db);
    // Resolved first, so that the count the page shows is the real one, whichever way it runs.
    const hostIds = await resolveRefreshTargets(deps, input);
    if (hostIds.length <= WAIT_LIMIT)
      return { background: false, ...(await refreshHosts(deps, { hostIds })) };
    // Large selections: results land in the inventory (and the hosts' timelines) as they come.
    void refreshHosts(deps, { hostIds }).catch((e: unknown) =>
      console.error(`background refresh failed: ${(e as Error).message}`),
    );
    return {
      background: true,
      total: hostIds.length,
      ok: 0,
      changed: 0,
      unreachable: 0,
      keyChanged: 0,
      skipped: 0,
      results: [],
    };
  });
