// Keyset pagination for the inventory's large lists (docs/decisions/0027-keyset-pagination.md).
// A cursor names the row a page starts after (or ends before) by its sort key and its name (plus
// its id where names can repeat): opaque base64url JSON, checked against the list's sort on the
// way back in, so a page costs the same wherever it is in the list (no OFFSET scans).
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";

/** What a cursor carries: the sort and direction it was made for, the row's sort key (as
 * PostgreSQL's text, so timestamps keep their microseconds), its name and optionally its id. */
export type Cursor = { s: string; d: "asc" | "desc"; v: string | null; n: string; i?: string };

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

export function decodeCursor(text: string, sort: string, dir: "asc" | "desc"): Cursor {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    c = null;
  }
  const ok =
    typeof c === "object" &&
    c !== null &&
    typeof (c as Cursor).n === "string" &&
    ((c as Cursor).v === null || typeof (c as Cursor).v === "string") &&
    ((c as Cursor).i === undefined || typeof (c as Cursor).i === "string");
  if (!ok)
    throw new AppError("BAD_REQUEST", {
      message: "The page cursor is not one this list made; start again from the first page.",
    });
  const cur = c as Cursor;
  if (cur.s !== sort || cur.d !== dir)
    throw new AppError("BAD_REQUEST", {
      message: `The page cursor was made for the list sorted by ${cur.s} ${cur.d}, not ${sort} ${dir}; start again from the first page.`,
    });
  return cur;
}

/**
 * Rows strictly after (`side` "after") or before ("before") the cursor's row in the order
 * `col dir NULLS LAST, name ASC` — the host list's order. `col` null means the list is sorted by
 * name alone (name is unique). `cast` is the column's SQL type, for the cursor's text value.
 */
export function keysetPredicate(
  col: string | null,
  cast: string,
  dir: "asc" | "desc",
  cur: Cursor,
  side: "after" | "before",
): Prisma.Sql {
  const name = Prisma.raw("h.name");
  if (col === null) {
    const gt = (dir === "asc") === (side === "after");
    return gt ? Prisma.sql`${name} > ${cur.n}` : Prisma.sql`${name} < ${cur.n}`;
  }
  const c = Prisma.raw(col);
  if (side === "after") {
    if (cur.v === null) return Prisma.sql`(${c} IS NULL AND ${name} > ${cur.n})`;
    const v = Prisma.sql`${cur.v}::${Prisma.raw(cast)}`;
    const beyond = dir === "asc" ? Prisma.sql`${c} > ${v}` : Prisma.sql`${c} < ${v}`;
    return Prisma.sql`(${beyond} OR (${c} = ${v} AND ${name} > ${cur.n}) OR ${c} IS NULL)`;
  }
  if (cur.v === null) return Prisma.sql`(${c} IS NOT NULL OR ${name} < ${cur.n})`;
  const v = Prisma.sql`${cur.v}::${Prisma.raw(cast)}`;
  const before = dir === "asc" ? Prisma.sql`${c} < ${v}` : Prisma.sql`${c} > ${v}`;
  return Prisma.sql`(${c} IS NOT NULL AND (${before} OR (${c} = ${v} AND ${name} < ${cur.n})))`;
}

/** The list's order, or its reverse (to read the page before a cursor, then flip it back). */
export function keysetOrder(
  col: string | null,
  dir: "asc" | "desc",
  reverse: boolean,
  name = "h.name",
): Prisma.Sql {
  const flip = (d: "asc" | "desc") => (reverse ? (d === "asc" ? "DESC" : "ASC") : d.toUpperCase());
  if (col === null) return Prisma.raw(`${name} ${flip(dir)}`);
  return Prisma.raw(`${col} ${flip(dir)} NULLS ${reverse ? "FIRST" : "LAST"}, ${name} ${flip("asc")}`);
}
