// `keel release build … --health-cmd/--health-url` against the console's real upload handler on a
// btrfs data directory (loop image) and a real database: the health check ends up in every signed
// manifest of the build (full and incremental), and bad checks are refused with clear messages
// before anything is built.
import { createServer, type Server } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkManifestSignature, parsePublicKey, validateManifest } from "@/agent/protocol";
import type { Auth } from "@/server/auth/auth";
import { runKeel } from "@/server/test/run-keel";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createReleaseUploadHandler } from "@/server/trpc/routers/releases/upload-handler";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";

const noSessions = { api: { getSession: async () => null } } as unknown as Auth;

describe("keel release build with a health check", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let root: string;
  let dataDir: string;
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let token: string;

  async function keel(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const r = await runKeel(env, argv);
    return { code: r.code, out: r.out.join("\n"), err: r.err.join("\n") };
  }

  function tree(v: string): string {
    const d = join(root, `tree-${v}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "VERSION"), `${v}\n`);
    writeFileSync(join(d, "data"), Buffer.alloc(300_000, 3));
    return d;
  }

  async function verified(manifestText: string) {
    const m = validateManifest(JSON.parse(manifestText));
    const keys = (await listTrustedPublicKeys({ db })).map((k) => parsePublicKey(k.publicKeyLine));
    expect(checkManifestSignature(m, keys)).toMatchObject({ ok: true });
    return m;
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    root = mkdtempSync(join(tmpdir(), "keel-build-hc-"));
    dataDir = mountBtrfs(root, "console", "512M");
    process.env.KEEL_DATA_DIR = dataDir;
    process.env.KEEL_SECRET = "h".repeat(40);
    const admin = await db.user.create({
      data: { id: randomUUID(), name: "admin", email: "admin@keel.test", roles: ["admin"] },
    });
    token = (await createApiToken({ db, userId: admin.id, name: "cli" })).token;
    const trpc = createTRPCHandler({ db, auth: noSessions, trustedOrigins: [] });
    const uploads = createReleaseUploadHandler({ db, auth: noSessions, trustedOrigins: [] });
    server = createServer(async (req, res) => {
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        duplex: "half",
      } as RequestInit);
      const response = req.url!.startsWith("/api/releases/upload") ? await uploads(request) : await trpc(request);
      res.writeHead(response.status, { ...Object.fromEntries(response.headers), connection: "close" });
      res.end(Buffer.from(await response.arrayBuffer()));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env = { KEEL_API_URL: base, KEEL_TOKEN: token } as unknown as NodeJS.ProcessEnv;
    expect((await keel("keys", "create", "console")).code).toBe(0);
  });

  afterAll(async () => {
    if (server) await new Promise((r) => server.close(r));
    await db?.$disconnect();
    await tdb?.drop();
    if (dataDir) {
      unmountBtrfs(dataDir);
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("records an argv health check in the signed manifest", async () => {
    const argv = ["/usr/bin/test", "-f", "/srv/app ready; $(rm -rf /)"];
    const r = await keel(
      "release", "build", tree("1.0"), "--app", "web", "--version", "1.0",
      "--health-cmd", JSON.stringify(argv), "--health-timeout", "5s",
    );
    expect(r.err).toBe("");
    expect(r.out).toContain(`health check: runs ${JSON.stringify(argv)} as the unprivileged user keel-check (timeout 5 s)`);
    const row = await db.release.findUniqueOrThrow({ where: { app_version: { app: "web", version: "1.0" } } });
    // The argument with spaces, ; and $( ) is one argv element, exactly as given: no shell parsed it.
    expect((await verified(row.manifest)).healthCheck).toEqual({ type: "exec", argv, timeoutMs: 5000 });
    const audit = await db.auditEvent.findFirstOrThrow({ where: { action: "release.build", target: "release:web@1.0" } });
    expect(audit.detail).toMatchObject({ healthCheck: `runs ${JSON.stringify(argv)} as the unprivileged user keel-check (timeout 5 s)` });
    expect((await keel("release", "show", "web", "1.0")).out).toContain('"healthCheck": {');
  });

  it("--health-check-as-root signs runAs root into the full and incremental manifests, and the release says so", async () => {
    // Another app, so that web's versions keep their parents.
    expect((await keel("release", "build", tree("r1.0"), "--app", "rooted", "--version", "1.0")).err).toBe("");
    const argv = ["/usr/bin/test", "-r", "/etc/shadow"];
    const r = await keel("release", "build", tree("r1.1"), "--app", "rooted", "--version", "1.1", "--health-cmd", JSON.stringify(argv), "--health-check-as-root");
    expect(r.err).toBe("");
    expect(r.out).toContain(`health check: runs ${JSON.stringify(argv)} AS ROOT (timeout 30 s)`);
    const row = await db.release.findUniqueOrThrow({ where: { app_version: { app: "rooted", version: "1.1" } }, include: { deltasTo: true } });
    expect((await verified(row.manifest)).healthCheck).toEqual({ type: "exec", argv, timeoutMs: 30_000, runAs: "root" });
    expect(row.deltasTo).toHaveLength(1);
    expect((await verified(row.deltasTo[0]!.manifest)).healthCheck).toEqual({ type: "exec", argv, timeoutMs: 30_000, runAs: "root" });
    expect((await keel("release", "show", "rooted", "1.1")).out).toContain(`health check: runs ${JSON.stringify(argv)} AS ROOT`);
    expect((await keel("release", "show", "rooted", "1.0")).out).toContain("health check: none declared");
    expect((await keel("release", "show", "web", "1.0")).out).toContain("as the unprivileged user keel-check");
    const http = await keel("release", "build", tree("r1.2"), "--app", "rooted", "--version", "1.2", "--health-url", "http://127.0.0.1/", "--health-check-as-root");
    expect(http.err).toMatch(/--health-check-as-root goes with --health-cmd/);
  });

  it("records an HTTP health check in the full and the incremental manifest", async () => {
    const r = await keel(
      "release", "build", tree("2.0"), "--app", "web", "--version", "2.0",
      "--health-url", "http://127.0.0.1:8080/health", "--health-status", "204",
    );
    expect(r.err).toBe("");
    expect(r.out).toMatch(/incremental stream from 1\.0/);
    const want = { type: "http", url: "http://127.0.0.1:8080/health", expectStatus: 204, timeoutMs: 30_000 };
    const row = await db.release.findUniqueOrThrow({
      where: { app_version: { app: "web", version: "2.0" } },
      include: { deltasTo: true },
    });
    expect((await verified(row.manifest)).healthCheck).toEqual(want);
    expect(row.deltasTo).toHaveLength(1);
    const inc = await verified(row.deltasTo[0]!.manifest);
    expect(inc.parent?.version).toBe("1.0");
    expect(inc.healthCheck).toEqual(want);
  });

  it("a build without health check flags has none", async () => {
    expect((await keel("release", "build", tree("2.1"), "--app", "web", "--version", "2.1")).err).toBe("");
    const row = await db.release.findUniqueOrThrow({ where: { app_version: { app: "web", version: "2.1" } } });
    expect((await verified(row.manifest)).healthCheck).toBeUndefined();
  });

  it("refuses bad health checks before building, saying what is wrong", async () => {
    const t = tree("3.0");
    const build = (...flags: string[]) => keel("release", "build", t, "--app", "web", "--version", "3.0", ...flags);
    expect((await build("--health-cmd", "curl -fsS http://127.0.0.1/health")).err).toMatch(
      /--health-cmd takes the command as a JSON array of arguments \(no shell\)/,
    );
    expect((await build("--health-cmd", '["curl -fsS http://127.0.0.1/health"]')).err).toMatch(
      /not as a shell string/,
    );
    expect((await build("--health-cmd", "[]")).err).toMatch(/needs at least the program/);
    expect((await build("--health-url", "ftp://x/")).err).toMatch(/must be http:\/\/ or https:\/\//);
    expect((await build("--health-cmd", '["/bin/true"]', "--health-timeout", "2h")).err).toMatch(/give a duration/);

    // The console checks too (a script or the build form may send anything), and reads the whole
    // upload before answering, so the client sees the message rather than a closed connection.
    const upload = async (healthCheck: string) => {
      const q = new URLSearchParams({ mode: "build", app: "web", version: "3.0", format: "tar", healthCheck });
      const res = await fetch(`${base}/api/releases/upload?${q}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", authorization: `Bearer ${token}` },
        body: Buffer.alloc(2 << 20, 1),
      });
      return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
    };
    expect(await upload(JSON.stringify({ type: "exec", argv: ["sh -c 'curl x'"] }))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^health check: the program .* contains white space/) } },
    });
    expect(await upload(JSON.stringify({ type: "http", url: "http://h/", expectStatus: 700 }))).toMatchObject({
      status: 400,
      body: { error: { message: "health check: the expected status must be an HTTP status (100–599)" } },
    });
    expect(await upload("{not json")).toMatchObject({
      status: 400,
      body: { error: { message: "health check: the healthCheck parameter must be JSON" } },
    });
    expect(await db.release.count({ where: { app: "web", version: "3.0" } })).toBe(0);
  });
});
