// The hosts that were enrolled at time T, enrolled ones and retired ones alike, as one relation
// with the columns host filters use (hostFilterSql over alias `h`). "As of" views join history to
// it, so a host removed since T still shows what it ran then.
import { Prisma } from "@prisma/client";

export function hostsAtSql(at: Date): Prisma.Sql {
  return Prisma.sql`(
    SELECT id, name, address, hostname, os, environment, labels, reachable, host_key_changed, last_seen_at, created_at, NULL::timestamptz AS retired_at
    FROM hosts WHERE created_at <= ${at}
    UNION ALL
    SELECT id, name, address, hostname, os, environment, labels, NULL::boolean, false, last_seen_at, created_at, retired_at
    FROM retired_hosts WHERE created_at <= ${at} AND retired_at > ${at}
  )`;
}
