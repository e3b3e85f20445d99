import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { applyMigrations, listMigrations, pendingMigrations } from "./migrate";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";

describe("migration runner", () => {
  let t: TestDatabase;
  afterAll(() => t?.drop());

  it("applies every migration on an empty database, then nothing on a second start", async () => {
    t = await createTestDatabase({ migrate: false });
    const first = await applyMigrations(t.ownerUrl, undefined, { appRole: t.appRole });
    expect(first.applied).toEqual(listMigrations().map((m) => m.name));
    expect(await pendingMigrations(t.url)).toEqual([]);
    const second = await applyMigrations(t.ownerUrl, undefined, { appRole: t.appRole });
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(first.applied);
    const c = new pg.Client({ connectionString: t.ownerUrl });
    await c.connect();
    const { rows } = await c.query(
      `SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`,
    );
    await c.end();
    expect(rows[0].n).toBe(first.applied.length);
  });
});
