// Runs `prisma generate` offline. Prisma 6's CLI insists on downloading the native query
// engine even though Keel's client uses engineType "client" (the wasm query compiler with
// @prisma/adapter-pg) and never loads it; pointing PRISMA_QUERY_ENGINE_LIBRARY at an empty
// stand-in file skips that download. See docs/decisions/0002-prisma-offline.md.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const env = { ...process.env };
if (!env.PRISMA_QUERY_ENGINE_LIBRARY) {
  const dir = join(tmpdir(), "keel-prisma-standin");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "libquery_engine-standin.so.node");
  if (!existsSync(file)) writeFileSync(file, "");
  env.PRISMA_QUERY_ENGINE_LIBRARY = file;
}
// Same for the schema engine, which `generate` does not use either.
env.PRISMA_SCHEMA_ENGINE_BINARY ??= env.PRISMA_QUERY_ENGINE_LIBRARY;
env.DATABASE_URL ??= "postgresql://keel@127.0.0.1:5432/keel";
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const r = spawnSync(
  process.execPath,
  ["node_modules/prisma/build/index.js", "generate", ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env,
  },
);
process.exit(r.status ?? 1);
