// The start of a lab rollout test (vitest only: its database comes from the test run's PostgreSQL).
// Kept apart from lab-fleet.ts, which the benchmarks import outside vitest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedUser } from "@/prisma/seed/fleet";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { setUpLabFleet, type LabFleet } from "./lab-fleet";

export type LabTest = {
  t: TestDatabase;
  fleet: LabFleet;
  operator: { id: string; roles: "operator"[] };
  /** An empty directory for the test's release trees. */
  src: string;
  /** Tears down the fleet, drops the database and removes `src`. */
  teardown(): Promise<void>;
};

/**
 * The start of a lab rollout test: a database of its own, a fleet of `count` hosts in
 * `environment`, an operator (op@example.test) and a scratch source directory.
 */
export async function setUpLabTest(o: { lab: string; count: number; environment: string }): Promise<LabTest> {
  const t = await createTestDatabase();
  let fleet: LabFleet | undefined;
  let src: string | undefined;
  const teardown = async () => {
    await fleet?.teardown();
    await t.drop();
    if (src) rmSync(src, { recursive: true, force: true });
  };
  try {
    fleet = await setUpLabFleet({ ...o, databaseUrl: t.url });
    const operator = (await seedUser(fleet.db, "op@example.test", ["operator"])) as LabTest["operator"];
    src = mkdtempSync(join(tmpdir(), `keel-${o.lab}-src-`));
    return { t, fleet, operator, src, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}
