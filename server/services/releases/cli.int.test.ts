// `keel release …` and `keel keys …` against a real HTTP server that serves the console's own
// handlers (/api/trpc and /api/releases/upload) on a real database, with an API token.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatManifest, generateSigningKey, parsePrivateKey } from "@/agent/protocol";
import type { Auth } from "@/server/auth/auth";
import { runKeel } from "@/server/test/run-keel";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { createReleaseUploadHandler } from "@/server/services/releases/upload-handler";
import { signedManifest } from "./test-fixtures";

const noSessions = { api: { getSession: async () => null } } as unknown as Auth;

describe("keel release / keel keys", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  let server: Server;
  let env: NodeJS.ProcessEnv;

  async function keel(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const r = await runKeel(env, argv);
    return { code: r.code, out: r.out.join("\n"), err: r.err.join("\n") };
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-cli-"));
    process.env.KEEL_DATA_DIR = dir;
    process.env.KEEL_SECRET = "c".repeat(40);
    const admin = await db.user.create({
      data: { id: randomUUID(), name: "admin", email: "admin@keel.test", roles: ["admin"] },
    });
    const { token } = await createApiToken({ db, userId: admin.id, name: "cli" });
    const trpc = createTRPCHandler({ db, auth: noSessions, trustedOrigins: [] });
    const uploads = createReleaseUploadHandler({ db, auth: noSessions, trustedOrigins: [] });
    server = createServer(async (req, res) => {
      const url = `http://127.0.0.1${req.url}`;
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(url, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        duplex: "half",
      } as RequestInit);
      const response = req.url!.startsWith("/api/releases/upload")
        ? await uploads(request)
        : await trpc(request);
      // One request per connection, as each `keel` process makes (keep-alive reuse is not under test).
      res.writeHead(response.status, { ...Object.fromEntries(response.headers), connection: "close" });
      res.end(Buffer.from(await response.arrayBuffer()));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    env = {
      KEEL_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      KEEL_TOKEN: token,
    } as unknown as NodeJS.ProcessEnv;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates, lists, imports and retires keys, and pushes, lists, shows and deletes releases", async () => {
    const created = await keel("keys", "create", "console", "key");
    expect(created.code).toBe(0);
    expect(created.out).toMatch(
      /^created key [0-9a-f]{16}; new releases are signed with it\nkeel-ed25519 \S{44}/,
    );

    const builder = generateSigningKey("ci");
    const pubFile = join(dir, "ci.pub");
    writeFileSync(pubFile, builder.publicKeyLine);
    expect((await keel("keys", "import", "ci", pubFile)).out).toBe(
      `trusting ci (${builder.keyId}) for pushed releases`,
    );
    const list = await keel("keys", "list");
    expect(list.out).toMatch(/console key\s+active\s+0\s+\S+\s+signs new releases/);
    expect(list.out).toMatch(new RegExp(`${builder.keyId}\\s+ci\\s+active\\s+0\\s+\\S+\\s+public only`));

    const bytes = randomBytes(300_000);
    const manifest = signedManifest(parsePrivateKey(builder.privateKeyPem), {
      app: "web",
      version: "1.2.0",
      stream: bytes,
    });
    writeFileSync(join(dir, "manifest.json"), formatManifest(manifest));
    writeFileSync(join(dir, "stream"), bytes);
    const pushed = await keel("release", "push", join(dir, "manifest.json"), join(dir, "stream"));
    expect(pushed).toMatchObject({ code: 0, out: "pushed web 1.2.0" });
    expect((await keel("release", "push", join(dir, "manifest.json"), join(dir, "stream"))).out).toMatch(
      /already there with these exact bytes/,
    );
    const other = randomBytes(1000);
    writeFileSync(
      join(dir, "manifest2.json"),
      formatManifest(
        signedManifest(parsePrivateKey(builder.privateKeyPem), {
          app: "web",
          version: "1.3.0",
          stream: other,
        }),
      ),
    );
    other[500]! ^= 1;
    writeFileSync(join(dir, "stream2"), other);
    const bad = await keel("release", "push", join(dir, "manifest2.json"), join(dir, "stream2"));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /^keel: web 1.3.0 refused: the stream's SHA-256 is [0-9a-f]{64}, its manifest declares/,
    );

    expect((await keel("release", "list")).out).toMatch(
      /web\s+1\.2\.0\s+app\s+293\.0 KiB\s+[0-9a-f]{16}\s+\S+\s+0 \(0 current\)/,
    );
    const show = await keel("release", "show", "web", "1.2.0");
    expect(show.out).toMatch(/^web 1.2.0 \(app\), pushed\nsigned by ci/);
    expect((await keel("release", "show", "web", "../x")).err).toMatch(/version must not contain/);

    expect((await keel("release", "build", dir, "--app", "web", "--version", "2.0")).err).toMatch(
      /needs a btrfs build store/,
    );

    expect((await keel("keys", "retire", builder.keyId)).out).toBe(`key ${builder.keyId} is now retired`);
    expect((await keel("keys", "retire", builder.keyId, "--remove")).err).toMatch(/signs 1 release\(s\)/);
    expect((await keel("release", "delete", "web", "1.2.0")).out).toBe(
      "deleted web 1.2.0 (1 stream file(s) freed)",
    );
    expect((await keel("release", "list")).out).toBe("no releases");
  });
});
