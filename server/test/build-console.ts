// A console that builds releases, for CLI build tests: a real database, a btrfs data directory on a
// loop image, the real tRPC and release-upload handlers behind one HTTP server (serve-console.ts), an admin API token
// for `keel`, and a signing key "console". Tests get `base`, `token`, `keel(...)`, `tree(v)` (a small source tree),
// `verified(manifest)` (validated, signature checked against the trusted keys) and `stop()`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, expect } from "vitest";
import { checkManifestSignature, parsePublicKey, validateManifest } from "@/agent/protocol";
import { createDb } from "@/server/db";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { mountBtrfs, unmountBtrfs } from "./btrfs";
import { createTestDatabase } from "./db";
import { runKeel } from "./run-keel";
import { serveConsole } from "./serve-console";

export type BuildConsole = {
  db: PrismaClient;
  /** The console's URL and the admin's API token, for requests made without the CLI. */
  base: string;
  token: string;
  keel(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
  tree(v: string): string;
  verified(manifestText: string): Promise<ReturnType<typeof validateManifest>>;
  stop(): Promise<void>;
};

/** `prefix` names the temporary directory (keel-build-…-). Sets KEEL_DATA_DIR and KEEL_SECRET. */
export async function startBuildConsole(prefix: string): Promise<BuildConsole> {
  const tdb = await createTestDatabase();
  const db = createDb(tdb.url);
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = mountBtrfs(root, "console", "512M");
  process.env.KEEL_DATA_DIR = dataDir;
  process.env.KEEL_SECRET = "h".repeat(40);
  const admin = await db.user.create({
    data: { id: randomUUID(), name: "admin", email: "admin@keel.test", roles: ["admin"] },
  });
  const token = (await createApiToken({ db, userId: admin.id, name: "cli" })).token;
  const server = await serveConsole(db);
  const base = server.base;
  const env = { KEEL_API_URL: base, KEEL_TOKEN: token } as unknown as NodeJS.ProcessEnv;

  const keel = async (...argv: string[]) => {
    const r = await runKeel(env, argv);
    return { code: r.code, out: r.out.join("\n"), err: r.err.join("\n") };
  };
  const tree = (v: string) => {
    const d = join(root, `tree-${v}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "VERSION"), `${v}\n`);
    writeFileSync(join(d, "data"), Buffer.alloc(300_000, 3));
    return d;
  };
  const verified = async (manifestText: string) => {
    const m = validateManifest(JSON.parse(manifestText));
    const keys = (await listTrustedPublicKeys({ db })).map((k) => parsePublicKey(k.publicKeyLine));
    expect(checkManifestSignature(m, keys)).toMatchObject({ ok: true });
    return m;
  };
  const stop = async () => {
    await server.close();
    await db.$disconnect();
    await tdb.drop();
    unmountBtrfs(dataDir);
    rmSync(root, { recursive: true, force: true });
  };
  expect((await keel("keys", "create", "console")).code).toBe(0);
  return { db, base, token, keel, tree, verified, stop };
}

/**
 * A build console for the tests of the calling file or describe block: started before them,
 * stopped after them. `keel`, `tree` and `verified` call it; `c.db`, `c.base`, `c.token` read it.
 */
export function useBuildConsole(prefix: string) {
  let started: BuildConsole | undefined;
  beforeAll(async () => {
    started = await startBuildConsole(prefix);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const c = (): BuildConsole => {
    if (!started) throw new Error("the build console is not started");
    return started;
  };
  return {
    c: {
      get db() {
        return c().db;
      },
      get base() {
        return c().base;
      },
      get token() {
        return c().token;
      },
    },
    keel: (...argv: string[]) => c().keel(...argv),
    tree: (v: string) => c().tree(v),
    verified: (manifestText: string) => c().verified(manifestText),
  };
}
