// filter_group_members holds the hosts each filter group selects, kept by triggers that evaluate the
// stored filter with keel_host_matches_filter, the SQL twin of hostFilterSql (migration
// 20261208110000, decision 0036). The twin is checked against hostFilterSql for the filters the
// console writes: saveGroup stores the filter as ZHostFilter parsed it, in JSON. A stored filter
// in any other form (written by hand, or by an older version) is answered by hostFilterSql at query
// time instead: keptFilter says which.
import { isDeepStrictEqual } from "node:util";
import { ZHostFilter, type THostFilter } from "./types";

/** The filter when the members table answers for it (its canonical, console-written form), else null. */
export function keptFilter(stored: unknown): THostFilter | null {
  const parsed = ZHostFilter.safeParse(stored);
  if (!parsed.success || parsed.data.groupId !== undefined) return null;
  return isDeepStrictEqual(JSON.parse(JSON.stringify(parsed.data)), stored) ? parsed.data : null;
}
