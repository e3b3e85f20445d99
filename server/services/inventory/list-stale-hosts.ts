// Hosts not seen recently: last answered before now − olderThan (or never), oldest first.
import { listHosts } from "./list-hosts";
import { now, type InventoryDeps, type THostFilter } from "./types";

export const DEFAULT_STALE_MS = 24 * 3600_000;

export async function listStaleHosts(
  deps: InventoryDeps,
  input: {
    olderThanMs?: number;
    filter?: THostFilter;
    after?: string;
    before?: string;
    pageSize?: number;
  } = {},
) {
  const seenBefore = new Date(now(deps).getTime() - (input.olderThanMs ?? DEFAULT_STALE_MS));
  return listHosts(deps, {
    filter: { ...input.filter, seenBefore },
    sort: "lastSeenAt",
    direction: "asc",
    after: input.after,
    before: input.before,
    pageSize: input.pageSize,
  });
}
