// How many hosts were enrolled at time T (retired ones included), exactly and without counting
// the fleet: the hosts enrolled now (host_environment_counts, kept by triggers), minus those of them
// enrolled after T, plus the retired hosts that were enrolled at T. The two index range scans cost
// what was enrolled or retired since T, not the size of the fleet (decision 0033). One statement,
// so every part reads the same snapshot.
import { Prisma } from "@prisma/client";

export function hostsAtCountSql(at: Date): Prisma.Sql {
  return Prisma.sql`SELECT (SELECT coalesce(sum(hosts), 0) FROM host_environment_counts)
    - (SELECT count(*) FROM hosts WHERE created_at > ${at})
    + (SELECT count(*) FROM retired_hosts WHERE created_at <= ${at} AND retired_at > ${at}) AS n`;
}
