import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatManifest, type SigningKey } from "@/agent/protocol";
import type { Auth } from "@/server/auth/auth";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createApiToken } from "@/server/services/tokens/create-api-token";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { signedManifest } from "@/server/services/releases/test-fixtures";
import { createReleaseUploadHandler } from "./upload-handler";

const ORIGIN = "http://console.test";
// No browser sessions in this test: every caller without a token is anonymous.
const noSessions = { api: { getSession: async () => null } } as unknown as Auth;

describe("POST /api/releases/upload", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  let deps: ReleaseDeps;
  let key: SigningKey;
  let handle: (req: Request) => Promise<Response>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-upload-"));
    deps = {
      db,
      dataDir: dir,
      store: createDiskArtifactStore({ dataDir: dir }),
      box: createSecretBox({ secret: "u".repeat(40), dataDir: dir }),
      actorId: null,
    };
    await createSigningKey(deps, { name: "console" });
    key = await loadSigningKey(deps);
    for (const role of ["operator", "auditor"] as const) {
      const user = await db.user.create({
        data: { id: randomUUID(), name: role, email: `${role}@keel.test`, roles: [role] },
      });
      tokens[role] = (await createApiToken({ db, userId: user.id, name: "cli" })).token;
    }
    handle = createReleaseUploadHandler({
      db,
      auth: noSessions,
      trustedOrigins: [ORIGIN],
      depsFor: (d, actorId) => ({ ...deps, db: d, actorId }),
    });
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function pushRequest(opts: {
    token?: string;
    manifest: string;
    stream: Buffer;
    contentType?: string;
    origin?: string;
  }) {
    const m = Buffer.from(opts.manifest);
    const headers: Record<string, string> = {
      "content-type": opts.contentType ?? "application/octet-stream",
      "x-keel-manifest-bytes": String(m.length),
    };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.origin) headers.origin = opts.origin;
    // Sent in small pieces, like a network would, so the manifest/stream split is exercised.
    const body = Buffer.concat([m, opts.stream]);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 777) c.enqueue(body.subarray(i, i + 777));
        c.close();
      },
    });
    return new Request(`${ORIGIN}/api/releases/upload?mode=push`, {
      method: "POST",
      headers,
      body: stream,
      duplex: "half",
    } as RequestInit);
  }

  it("an operator's token pushes a release; the same push again changes nothing", async () => {
    const bytes = randomBytes(50_000);
    const manifest = formatManifest(signedManifest(key, { app: "web", version: "1.0", stream: bytes }));
    const res = await handle(pushRequest({ token: tokens.operator, manifest, stream: bytes }));
    expect(res.status).toBe(200);
    expect((await res.json()).result).toMatchObject({ status: "created", app: "web", version: "1.0" });
    const again = await handle(pushRequest({ token: tokens.operator, manifest, stream: bytes }));
    expect((await again.json()).result.status).toBe("unchanged");
    const row = await db.release.findFirstOrThrow({ where: { app: "web" }, select: { addedById: true } });
    expect(row.addedById).not.toBeNull();
  });

  it("says why a push is refused, with the right status", async () => {
    const bytes = randomBytes(5_000);
    const manifest = formatManifest(signedManifest(key, { app: "web", version: "2.0", stream: bytes }));
    const flipped = Buffer.from(bytes);
    flipped[10]! ^= 1;
    const bad = await handle(pushRequest({ token: tokens.operator, manifest, stream: flipped }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/web 2.0 refused: the stream's SHA-256/);

    const auditor = await handle(pushRequest({ token: tokens.auditor, manifest, stream: bytes }));
    expect(auditor.status).toBe(403);
    const anonymous = await handle(pushRequest({ manifest, stream: bytes, origin: ORIGIN }));
    expect(anonymous.status).toBe(401);
    const wrongToken = await handle(pushRequest({ token: "keel_nope", manifest, stream: bytes }));
    expect(wrongToken.status).toBe(401);
    const form = await handle(
      pushRequest({ token: tokens.operator, manifest, stream: bytes, contentType: "text/plain" }),
    );
    expect(form.status).toBe(415);
    const multipart = await handle(
      pushRequest({
        token: tokens.operator,
        manifest,
        stream: bytes,
        contentType: "multipart/form-data; boundary=x",
      }),
    );
    expect(multipart.status).toBe(415);
    expect(await db.release.count({ where: { version: "2.0" } })).toBe(0);
  });

  it("refuses building when the data directory is not on btrfs, before reading the tree", async () => {
    const res = await handle(
      new Request(`${ORIGIN}/api/releases/upload?mode=build&app=web&version=3.0&format=tar`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", authorization: `Bearer ${tokens.operator}` },
        body: new Uint8Array(10_240),
      }),
    );
    expect(res.status).toBe(412);
    expect((await res.json()).error.message).toMatch(/building releases needs a btrfs build store/);
  });
});
