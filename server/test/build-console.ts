// A console that builds releases, for CLI build tests: a real database, a btrfs data directory on a
// loop image, the real tRPC and release-upload handlers behind one HTTP server, an admin API token
// for `keel`, and a signing key "console". Tests get `base`, `token`, `keel(...)`, `tree(v)` (a small source tree),
// `verified(manifest)` (validated, signature checked against the trusted keys) and `stop()`.
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { PrismaClient } from "@prisma/client";
import { expect } from "vitest";
import { checkManifestSignature, parsePublicKey, validateManifest } from "@/agent/protocol";
import type { Auth } from "@/server/auth/auth";
import { createDb } from "@/server/db";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createReleaseUploadHandler } from "@/server/services/releases/upload-handler";
import { mountBtrfs, unmountBtrfs } from "./btrfs";
import { createTestDatabase } from "./db";
import { runKeel } from "./run-keel";

const noSessions = { api: { getSession: async () => null } } as unknown as Auth;

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
  const trpc = createTRPCHandler({ db, auth: noSessions, trustedOrigins: [] });
  const uploads = createReleaseUploadHandler({ db, auth: noSessions, trustedOrigins: [] });
  const server = createServer(async (req, res) => {
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
    } as RequestInit);
    const response = req.url!.startsWith("/api/releases/upload")
      ? await uploads(request)
      : await trpc(request);
    res.writeHead(response.status, { ...Object.fromEntries(response.headers), connection: "close" });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    await new Promise((r) => server.close(r));
    await db.$disconnect();
    await tdb.drop();
    unmountBtrfs(dataDir);
    rmSync(root, { recursive: true, force: true });
  };
  expect((await keel("keys", "create", "console")).code).toBe(0);
  return { db, base, token, keel, tree, verified, stop };
}
