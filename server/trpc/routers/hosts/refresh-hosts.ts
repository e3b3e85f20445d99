import { procedureFor } from "../../init";
import { refreshHosts } from "@/server/services/inventory/refresh-hosts";
import { inventoryDeps } from "@/server/services/inventory/deps";
import { ZRefreshRequest, ZRefreshResponse } from "./schemas";

/** Up to this many hosts the call waits for the results; more run in the background. */
const WAIT_LIMIT = 50;

/** Refresh one host, a selection, a filter or all now. */
export const refreshHostsRoute = procedureFor(["admin", "operator"])
  .input(ZRefreshRequest)
  .output(ZRefreshResponse)
  .mutation(async ({ ctx, input }) => {
    const deps = inventoryDeps(ctx.db);
    const count = "hostIds" in input ? input.hostIds.length : WAIT_LIMIT + 1;
    if (count <= WAIT_LIMIT) return { background: false, ...(await refreshHosts(deps, input)) };
    // Large selections: results land in the inventory (and the hosts' timelines) as they come.
    void refreshHosts(deps, input).catch((e: unknown) => console.error(`background refresh failed: ${(e as Error).message}`));
    return { background: true, total: count, ok: 0, changed: 0, unreachable: 0, keyChanged: 0, skipped: 0, results: [] };
  });
