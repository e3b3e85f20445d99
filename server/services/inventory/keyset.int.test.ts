// Keyset pagination against a real PostgreSQL: walking the host list forward and back by cursor
// visits every host exactly once, in the order of the one-page list, for every sort key and
// direction — with ties and NULLs in the sort column — and the "as of" list does the same.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { getHostsAsOf } from "./get-hosts-as-of";
import { listHosts, type ListHostsInput } from "./list-hosts";
import { HOST_SORT_KEYS } from "./types";

describe("keyset pagination", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const deps = () => ({ db });

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    const c = new pg.Client({ connectionString: t.ownerUrl });
    await c.connect();
    // 23 hosts: OS and environment repeat or are NULL, reachability is NULL/true/false, last seen
    // has ties (to the microsecond) and NULLs, so every sort has ties broken by name.
    await c.query(`
      INSERT INTO hosts (name, address, port, "user", host_key_fingerprint, environment, labels, reachable, os, last_seen_at, last_refresh_at, created_at)
      SELECT 'h-' || lpad(i::text, 2, '0'), '10.0.0.' || (i % 5), 22, 'root', 'SHA256:' || rpad(md5(i::text), 43, 'x'),
             CASE WHEN i % 4 = 0 THEN NULL ELSE (ARRAY['dev','prod','staging'])[1 + i % 3] END, '{}'::jsonb,
             CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END,
             CASE WHEN i % 5 = 0 THEN NULL ELSE 'os-' || (i % 3) END,
             CASE WHEN i % 6 = 0 THEN NULL ELSE timestamptz '2026-12-01 10:00:00.123456+00' + (i % 4) * interval '1 minute' END,
             timestamptz '2026-12-01 10:00:00+00' + (i % 7) * interval '1 second',
             timestamptz '2026-11-01 00:00:00+00'
      FROM generate_series(1, 23) i`);
    await c.end();
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  const names = (r: { rows: { name: string }[] }) => r.rows.map((h) => h.name);

  for (const sort of HOST_SORT_KEYS)
    for (const direction of ["asc", "desc"] as const)
      it(`walks every host once by ${sort} ${direction}, forward and back`, async () => {
        const base: ListHostsInput = { sort, direction, pageSize: 4 };
        const whole = names(await listHosts(deps(), { sort, direction, pageSize: 500 }));
        expect(whole).toHaveLength(23);
        const forward: string[][] = [];
        let page = await listHosts(deps(), base);
        expect(page.prevCursor).toBeNull();
        forward.push(names(page));
        while (page.nextCursor) {
          page = await listHosts(deps(), { ...base, after: page.nextCursor });
          forward.push(names(page));
        }
        expect(forward.flat()).toEqual(whole);
        expect(forward).toHaveLength(6);
        // And back from the last page by prevCursor, page by page, to the first.
        const back: string[][] = [names(page)];
        while (page.prevCursor) {
          page = await listHosts(deps(), { ...base, before: page.prevCursor });
          back.unshift(names(page));
        }
        expect(back).toEqual(forward);
      });

  it("puts NULLs last whichever the direction, ties by name", async () => {
    const asc = names(await listHosts(deps(), { sort: "os", pageSize: 500 }));
    const desc = names(await listHosts(deps(), { sort: "os", direction: "desc", pageSize: 500 }));
    expect(asc.slice(-4)).toEqual(["h-05", "h-10", "h-15", "h-20"]);
    expect(desc.slice(-4)).toEqual(["h-05", "h-10", "h-15", "h-20"]);
  });

  it("refuses a cursor from another sort or one it did not make, saying what to do", async () => {
    const { nextCursor } = await listHosts(deps(), { sort: "os", pageSize: 4 });
    await expect(listHosts(deps(), { sort: "name", after: nextCursor! })).rejects.toThrow(
      /made for the list sorted by os asc, not name asc; start again from the first page/,
    );
    await expect(listHosts(deps(), { after: "bm90LWpzb24" })).rejects.toThrow(/not one this list made/);
    await expect(listHosts(deps(), { after: nextCursor!, before: nextCursor! })).rejects.toThrow(
      /either after or before/,
    );
  });

  it('pages the "as of" list by (name, id) cursors', async () => {
    const at = new Date("2026-12-02T00:00:00Z");
    const whole = names(await getHostsAsOf(deps(), { at, pageSize: 500 }));
    expect(whole).toHaveLength(23);
    const seen: string[] = [];
    let page = await getHostsAsOf(deps(), { at, pageSize: 5 });
    seen.push(...names(page));
    while (page.nextCursor) {
      page = await getHostsAsOf(deps(), { at, pageSize: 5, after: page.nextCursor });
      seen.push(...names(page));
    }
    expect(seen).toEqual(whole);
    expect(names(await getHostsAsOf(deps(), { at, pageSize: 5, before: page.prevCursor! }))).toEqual(
      whole.slice(15, 20),
    );
  });
});
