// `npm start`: one command from a fresh clone to a running console.
//   1. database: DATABASE_URL, or an embedded PostgreSQL under KEEL_DATA_DIR (default .keel)
//   2. migrations (prisma/migrate.ts), the first admin when there are no users
//   3. KEEL_SECRET from the environment or <data dir>/secret (generated once, mode 600)
//   4. `next build` when there is no build or the sources are newer than it (KEEL_NEXT_DIST_DIR,
//      default .next), then serve
//      on KEEL_HOST:KEEL_PORT (default 127.0.0.1:3000); `--dev` serves the dev server instead.
//   5. the rollout worker (server/jobs), with the agent bundle built when missing
//   6. the audit checkpointer: signed checkpoints of the audit chain in <data dir>/audit-checkpoints.jsonl
// Ctrl-C / SIGTERM stops everything it started, the embedded PostgreSQL included. One start per data
// directory (instance-lock.ts): a second one is refused, naming the console that runs.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { applyMigrations } from "@/prisma/migrate";
import { parseEnv, publicOrigin, type Env } from "@/server/env";
import { openDatabase, StartError, type Database } from "./database";
import { ensureFirstAdmin } from "./first-admin";
import { buildNext, buildState, REPO, serveNext, type Serving } from "./next-app";
import { ensureSecret } from "./secret";
import { lockDataDir } from "./instance-lock";
import { ensureAgentBundle } from "./agent-bundle";
import { consoleIdentity } from "@/server/console-identity";
import { ensureBuildStore, type BuildStore } from "./build-store";
import { ensureConsoleSigningKey } from "./console-signing-key";
import type { Workers } from "@/server/jobs/start-workers";
import type { AuditCheckpointer } from "@/server/services/audit/start-audit-checkpointer";

const log = (s: string) => console.log(`keel: ${s}`);

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const env = parseEnv(process.env);
  const dataDir = resolve(REPO, env.KEEL_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  let db: Database | undefined;
  let serving: Serving | undefined;
  let workers: Workers | undefined;
  let checkpointer: { stop(): Promise<void> } | undefined;
  let buildStore: BuildStore | undefined;
  let lock: { release(): void } | undefined;
  const aborter = new AbortController();
  let stopping: Promise<void> | undefined;
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      aborter.abort();
      if (why) log(why);
      await workers?.stop().catch((e: unknown) => console.error("keel: stopping the workers:", e));
      await serving?.close().catch((e: unknown) => console.error("keel: stopping the web server:", e));
      // Last: a final checkpoint covers everything the web server and workers wrote.
      await checkpointer?.stop().catch((e: unknown) => console.error("keel: the last audit checkpoint:", e));
      await db?.stop();
      await buildStore?.close();
      lock?.release();
      process.exit(code);
    })();
    return stopping;
  };
  process.on("SIGINT", () => void stop("stopping (SIGINT)", 0));
  process.on("SIGTERM", () => void stop("stopping (SIGTERM)", 0));
  // `npm start` runs us under `sh -c`; a SIGTERM sent to npm kills that shell without passing
  // the signal on. Being re-parented means whoever started us is gone: stop like on SIGTERM.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("stopping (the process that started keel is gone)", 0);
  }, 500).unref();

  try {
    // First: a second start on this data directory would stop the running console's PostgreSQL.
    lock = lockDataDir(dataDir);
    db = await openDatabase({
      databaseUrl: env.DATABASE_URL,
      ownerUrl: env.DATABASE_OWNER_URL,
      dataDir,
      log,
    });
    if (db.ownerUrl) {
      const migrations = await applyMigrations(db.ownerUrl, undefined, { appRole: db.appRole });
      if (migrations.applied.length) log(`applied migrations: ${migrations.applied.join(", ")}`);
    }
    // Nothing after this point (web server, workers) needs or sees the owner's credentials.
    delete process.env.DATABASE_OWNER_URL;

    const admin = await ensureFirstAdmin({
      databaseUrl: db.url,
      email: env.KEEL_ADMIN_EMAIL,
      password: env.KEEL_ADMIN_PASSWORD,
      founders: env.KEEL_FOUNDERS,
      foundersPassword: env.KEEL_FOUNDERS_PASSWORD,
    });
    const secret = ensureSecret(dataDir, env.KEEL_SECRET);
    await ensureConsoleSigningKey({ databaseUrl: db.url, secret, dataDir, log });
    checkpointer = await startCheckpoints(db.url, dataDir, env);
    process.env.DATABASE_URL = db.url;
    process.env.KEEL_SECRET = secret;
    process.env.KEEL_DATA_DIR = dataDir; // the web handlers find the console's SSH key and the audit checkpoints here
    buildStore = await ensureBuildStore({ dataDir, sizeGiB: env.KEEL_BUILD_STORE_GIB, log });
    consoleIdentity({ dataDir }); // made now, so Settings and `keel ssh-key` can show it before any host
    process.env.KEEL_NEXT_DIST_DIR = env.KEEL_NEXT_DIST_DIR;
    process.env.NEXT_TELEMETRY_DISABLED ??= "1";

    const build = dev ? "fresh" : buildState(env.KEEL_NEXT_DIST_DIR);
    if (build !== "fresh") {
      log(
        `${build === "missing" ? "no build" : "sources changed since the build"} in ${env.KEEL_NEXT_DIST_DIR}/: running next build (takes a few minutes)`,
      );
      await buildNext(env.KEEL_NEXT_DIST_DIR, aborter.signal, join(dataDir, "next-build.log"));
    }
    if (aborter.signal.aborted) return;
    serving = await serveNext({ host: env.KEEL_HOST, port: env.KEEL_PORT, dev });
    if (aborter.signal.aborted) return void (await serving.close());
    // Rollout steps run in this process too (KEEL_WORKERS=0 leaves them to `npm run worker`).
    if (process.env.KEEL_WORKERS !== "0") {
      await ensureAgentBundle(log);
      const { startWorkers } = await import("@/server/jobs/start-workers");
      workers = await startWorkers({ databaseUrl: db.url, dataDir });
    }

    const url = publicOrigin(env);
    if (admin.created && admin.generatedPassword) {
      const bar = "=".repeat(66);
      console.log(
        [
          bar,
          "  First admin account created. This password is shown ONLY ONCE:",
          `    e-mail:   ${admin.email}`,
          `    password: ${admin.generatedPassword}`,
          "  Sign in, then keep it in your password manager.",
          bar,
        ].join("\n"),
      );
    } else if (admin.created)
      log(`first admin ${admin.email} created with the password from KEEL_ADMIN_PASSWORD`);
    if (admin.created)
      for (const f of admin.founders)
        log(
          f.generatedPassword
            ? `founder ${f.email} created; password (shown once): ${f.generatedPassword}`
            : `founder ${f.email} created with the password from KEEL_FOUNDERS_PASSWORD`,
        );
    log(`console ready at ${url}  (Ctrl-C stops it)`);
    if (!env.KEEL_URL && ["0.0.0.0", "::"].includes(env.KEEL_HOST))
      log(
        `KEEL_HOST=${env.KEEL_HOST} listens everywhere: set KEEL_URL to the address browsers use (e.g. http://console.example:${env.KEEL_PORT}), or sign-in and changes are refused as cross-origin`,
      );
  } catch (e) {
    const line = e instanceof StartError ? e.message : `start-up failed: ${(e as Error).message}`;
    console.error(`keel: ${line}`);
    await stop("", 1);
  }
}

async function startCheckpoints(url: string, dataDir: string, env: Env): Promise<{ stop(): Promise<void> }> {
  const { createDb } = await import("@/server/db");
  const { startAuditCheckpointer } = await import("@/server/services/audit/start-audit-checkpointer");
  const db = createDb(url, { max: 2 });
  const c: AuditCheckpointer = await startAuditCheckpointer({
    db,
    databaseUrl: url,
    dataDir,
    intervalSeconds: env.KEEL_AUDIT_CHECKPOINT_SECONDS,
    syslog: env.KEEL_AUDIT_SYSLOG,
    webhookUrl: env.KEEL_AUDIT_WEBHOOK_URL,
  });
  return { stop: () => c.stop().finally(() => db.$disconnect()) };
}

void main();
