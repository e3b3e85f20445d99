// The hosts that were enrolled at time T, enrolled ones and retired ones alike, as one relation
// with the columns host filters use (hostFilterSql over alias `h`). "As of" views join history to
// it, so a host removed since T still shows what it ran then.
import { Prisma } from "@prisma/client";

export function hostsAtSql(at: Date): Prisma.Sql {
  const [enrolled, retired] = hostsAtParts(at);
  return Prisma.sql`(${enrolled} UNION ALL ${retired})`;
}

/**
 * The two halves of hostsAtSql, each a plain subquery PostgreSQL flattens into its table: a page
 * in (name, id) order reads each half by its (name, id) index and merges the two (the union as a
 * whole is not flattened, so ordering it would scan and sort every host).
 */
export function hostsAtParts(at: Date): [Prisma.Sql, Prisma.Sql] {
  return [
    Prisma.sql`(
    SELECT id, name, address, hostname, os, environment, labels, reachable, host_key_changed, last_seen_at, created_at, NULL::timestamptz AS retired_at
    FROM hosts WHERE created_at <= ${at})`,
    Prisma.sql`(
    SELECT id, name, address, hostname, os, environment, labels, NULL::boolean AS reachable, false AS host_key_changed, last_seen_at, created_at, retired_at
    FROM retired_hosts WHERE created_at <= ${at} AND retired_at > ${at})`,
  ];
}
