// The hand-written migrations must build exactly the tables the Prisma schema describes
// (docs/decisions/0002-prisma-offline.md): after applying every migration, each model's table
// has exactly its fields as columns, with the same nullability and type. Prisma's own schema
// engine, which would check this, cannot run here, so this reads prisma/schema/*.prisma itself.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";

const SCHEMA_DIR = fileURLToPath(new URL("./schema", import.meta.url));
type Field = { column: string; type: string; list: boolean; optional: boolean; native: string | null };
type Model = { name: string; table: string; fields: Field[] };

function parseSchema(): { models: Model[]; enums: Set<string> } {
  const text = readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith(".prisma"))
    .map((f) => readFileSync(join(SCHEMA_DIR, f), "utf8"))
    .join("\n");
  const enums = new Set([...text.matchAll(/^enum\s+(\w+)\s*\{/gm)].map((m) => m[1]!));
  const blocks = [...text.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)];
  const modelNames = new Set(blocks.map((b) => b[1]!));
  const models = blocks.map(([, name, body]) => {
    const table = /@@map\("([^"]+)"\)/.exec(body!)?.[1] ?? name!;
    const fields: Field[] = [];
    for (const raw of body!.split("\n")) {
      const line = raw.replace(/\/\/.*$/, "").trim();
      const m = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!m || line.startsWith("@@")) continue;
      const [, field, type, list, optional, attrs] = m;
      if (modelNames.has(type!)) continue; // a relation, not a column
      fields.push({
        column: /@map\("([^"]+)"\)/.exec(attrs!)?.[1] ?? field!,
        type: type!,
        list: !!list,
        optional: !!optional,
        native: /@db\.(\w+)/.exec(attrs!)?.[1] ?? null,
      });
    }
    return { name: name!, table, fields };
  });
  return { models, enums };
}

const SQL_TYPE: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Boolean: "boolean",
  Float: "double precision",
  Decimal: "numeric",
  Json: "jsonb",
  Bytes: "bytea",
  DateTime: "timestamp without time zone",
};
const LIST_UDT: Record<string, string> = {
  String: "_text",
  Int: "_int4",
  BigInt: "_int8",
  Boolean: "_bool",
  Float: "_float8",
  Json: "_jsonb",
};
const NATIVE: Record<string, string> = {
  Timestamptz: "timestamp with time zone",
  Uuid: "uuid",
  VarChar: "character varying",
  Text: "text",
  SmallInt: "smallint",
  Char: "character",
  Date: "date",
  Inet: "inet",
};

let t: TestDatabase;
let columns: Map<string, Map<string, { nullable: boolean; type: string; udt: string }>>;

beforeAll(async () => {
  t = await createTestDatabase();
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  const { rows } = await c.query<{
    table_name: string;
    column_name: string;
    is_nullable: string;
    data_type: string;
    udt_name: string;
  }>(
    `SELECT table_name, column_name, is_nullable, data_type, udt_name FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  await c.end();
  columns = new Map();
  for (const r of rows) {
    if (!columns.has(r.table_name)) columns.set(r.table_name, new Map());
    columns
      .get(r.table_name)!
      .set(r.column_name, { nullable: r.is_nullable === "YES", type: r.data_type, udt: r.udt_name });
  }
});
afterAll(() => t?.drop());

const { models, enums } = parseSchema();

describe("migrations build what the Prisma schema says", () => {
  it.each(models.map((m) => [m.name, m] as const))("%s", (_name, model) => {
    const table = columns.get(model.table);
    expect(table, `table "${model.table}" is missing`).toBeDefined();
    expect([...table!.keys()].sort(), `columns of "${model.table}"`).toEqual(
      model.fields.map((f) => f.column).sort(),
    );
    for (const f of model.fields) {
      const col = table!.get(f.column)!;
      const where = `${model.table}.${f.column}`;
      if (f.list) {
        expect(col.type, where).toBe("ARRAY");
        expect(col.udt, where).toBe(enums.has(f.type) ? `_${f.type}` : LIST_UDT[f.type]);
        continue;
      }
      expect(col.nullable, `${where} nullability`).toBe(f.optional);
      if (enums.has(f.type)) {
        expect(col.type, where).toBe("USER-DEFINED");
        expect(col.udt, where).toBe(f.type);
      } else {
        expect(col.type, where).toBe((f.native && NATIVE[f.native]) ?? SQL_TYPE[f.type]);
      }
    }
  });
});
