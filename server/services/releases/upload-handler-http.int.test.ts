// POST /api/releases/upload over real HTTP with bodies far larger than the socket buffers. A caller
// who may not upload (content type, token, role) is answered from the headers, and the body is not
// read (server/auth/bounded-body-http.int.test.ts counts the bytes). Whatever refuses an upload
// from someone who may upload (query, manifest, a stream too long, the data directory not on
// btrfs, a version that exists, a body that is no tar), the client must receive the JSON error
// after sending its whole body, never a closed connection (EPIPE, ECONNRESET) or a body the
// console stopped reading. Builds run for real on a btrfs loop image with the agent bundle.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { rawPost, serveHandlers } from "@/server/auth/raw-http";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";
import { buildTestAgentBundle } from "@/server/test/agent-bundle";

const ORIGIN = "http://console.test";
const noSessions = { api: { getSession: async () => null } } as unknown as Auth;
/** Far more than a loopback socket buffers: a server that stops reading stalls or breaks the send. */
const BIG = 48 << 20;

type Answer = { status: number; json: { result?: unknown; error?: { code: string; message: string } } };

/** Serves `handle` as Keel's HTTP server serves Next's route (../../../auth/raw-http.ts). */
async function serve(
  handle: (r: Request) => Promise<Response>,
): Promise<{ url: string; server: Server; port: number }> {
  const s = await serveHandlers(() => handle);
  return { url: `http://127.0.0.1:${s.port}`, server: s.server, port: s.port };
}

/**
 * Sends `head` then `size` bytes of `fill` in 64 KiB writes, as a client streaming a file does, and
 * resolves with the answer once the whole body was sent and the answer read. A connection error
 * rejects; a body the server stopped reading rejects after 60 s.
 */
function post(
  url: string,
  path: string,
  o: { headers: Record<string, string>; head?: Buffer; size: number; fill?: Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const head = o.head ?? Buffer.alloc(0);
    const req = httpRequest(`${url}${path}`, {
      method: "POST",
      headers: { "content-length": String(head.length + o.size), ...o.headers },
    });
    let sent = false;
    let answer: Answer | null = null;
    const done = () => {
      if (sent && answer) {
        clearTimeout(timer);
        resolve(answer);
      }
    };
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `after 60 s: body ${sent ? "sent" : "not all sent"}, ${answer ? `answered ${answer.status}` : "no answer"}`,
          ),
        ),
      60_000,
    );
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the client saw ${(e as NodeJS.ErrnoException).code ?? e.message} (${answer ? `after the answer ${answer.status}` : "before any answer"})`,
        ),
      );
    });
    req.on("finish", () => {
      sent = true;
      done();
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        try {
          answer = { status: res.statusCode ?? 0, json: JSON.parse(text) };
        } catch {
          answer = {
            status: res.statusCode ?? 0,
            json: { error: { code: "NOT_JSON", message: text.slice(0, 300) } },
          };
        }
        done();
      });
    });
    const fill = o.fill ?? Buffer.alloc(64 << 10, 7);
    let left = o.size;
    if (head.length) req.write(head);
    const write = () => {
      while (left > 0) {
        const n = Math.min(left, fill.length);
        left -= n;
        if (!req.write(n === fill.length ? fill : fill.subarray(0, n))) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

describe("POST /api/releases/upload over HTTP, refusals with large bodies", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let root: string;
  let mnt: string | null = null;
  let key: SigningKey;
  const tokens: Record<string, string> = {};
  const servers: Server[] = [];
  let plain: string; // data directory not on btrfs
  let plainPort: number;
  let onBtrfs: string;
  let btrfsDir: string;

  const depsAt = (dataDir: string): ReleaseDeps => ({
    db,
    dataDir,
    store: createDiskArtifactStore({ dataDir }),
    box: createSecretBox({ secret: "h".repeat(40), dataDir }),
    actorId: null,
  });
  const auth = (role: string) => ({
    "content-type": "application/octet-stream",
    authorization: `Bearer ${tokens[role]}`,
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "keel-upload-http-"));
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    const plainDir = join(root, "plain");
    mkdirSync(plainDir);
    // The data directory for builds: a btrfs loop image, like a console that can build.
    mnt = mountBtrfs(root, "mnt", "512M");
    btrfsDir = join(mnt, "data");
    mkdirSync(btrfsDir);
    // The console builds with its own agent bundle (a fresh one, whatever agent/dist holds).
    const bundle = join(root, "keel-agent.mjs");
    await buildTestAgentBundle(bundle);
    process.env.KEEL_AGENT_BUNDLE = bundle;

    // One signing key, in both data directories' secret boxes (the key row is shared).
    await createSigningKey(depsAt(btrfsDir), { name: "console" });
    key = await loadSigningKey(depsAt(btrfsDir));
    for (const role of ["operator", "auditor"] as const) {
      const user = await db.user.create({
        data: { id: randomUUID(), name: role, email: `${role}@keel.test`, roles: [role] },
      });
      tokens[role] = (await createApiToken({ db, userId: user.id, name: "cli" })).token;
    }
    const handler = (dataDir: string) =>
      createReleaseUploadHandler({
        db,
        auth: noSessions,
        trustedOrigins: [ORIGIN],
        depsFor: (d, actorId) => ({ ...depsAt(dataDir), db: d, actorId }),
      });
    const a = await serve(handler(plainDir));
    const b = await serve(handler(btrfsDir));
    servers.push(a.server, b.server);
    plain = a.url;
    plainPort = a.port;
    onBtrfs = b.url;
  });

  afterAll(async () => {
    delete process.env.KEEL_AGENT_BUNDLE;
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
    await db?.$disconnect();
    await tdb?.drop();
    if (mnt) {
      unmountBtrfs(mnt);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("callers who may not upload are answered before their body is read, and the connection closes", async () => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [
        { "content-type": "text/plain", authorization: `Bearer ${tokens.operator}` },
        415,
        /application\/octet-stream/,
      ],
      [
        { "content-type": "application/octet-stream", authorization: "Bearer keel_nope" },
        401,
        /API token is not valid/,
      ],
      [{ "content-type": "application/octet-stream" }, 401, /Sign in first/],
      [auth("auditor"), 403, /needs the role admin or operator/],
    ];
    for (const [headers, status, message] of cases) {
      const r = await rawPost(plainPort, "/api/releases/upload?mode=push", {
        headers,
        size: BIG,
        declare: true,
      });
      expect([r.status, JSON.parse(r.body).error?.message, r.complete]).toEqual([
        status,
        expect.stringMatching(message),
        false,
      ]);
    }
  });

  it("refusals of an allowed uploader before the body is read: query, headers", async () => {
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ["/api/releases/upload?mode=nope", auth("operator"), 400, /mode must be push or build/],
      ["/api/releases/upload?mode=push", auth("operator"), 400, /x-keel-manifest-bytes/],
      [
        "/api/releases/upload?mode=build&app=web&version=1.0&format=zip",
        auth("operator"),
        400,
        /format must be tar/,
      ],
      [
        "/api/releases/upload?mode=build&app=web&version=1.0&format=tar&kind=nope",
        auth("operator"),
        400,
        /kind must be one of/,
      ],
    ];
    for (const [path, headers, status, message] of cases) {
      const r = await post(plain, path, { headers, size: BIG });
      expect([r.status, r.json.error?.message], path).toEqual([status, expect.stringMatching(message)]);
    }
  });

  it("a push refused after its manifest or part of its stream was read", async () => {
    // Manifest that is no JSON: refused once the manifest's bytes are in.
    const junk = Buffer.from("{ not json");
    const r1 = await post(plain, "/api/releases/upload?mode=push", {
      headers: { ...auth("operator"), "x-keel-manifest-bytes": String(junk.length) },
      head: junk,
      size: BIG,
    });
    expect([r1.status, r1.json.error?.message]).toEqual([400, expect.stringMatching(/manifest is not JSON/)]);

    // A signed manifest for a 4 MiB stream, followed by 44 MiB more than that: refused as soon as
    // the stream runs past its declared length, with most of the body still to come.
    const stream = randomBytes(4 << 20);
    const manifest = Buffer.from(formatManifest(signedManifest(key, { app: "web", version: "0.9", stream })));
    const r2 = await post(plain, "/api/releases/upload?mode=push", {
      headers: { ...auth("operator"), "x-keel-manifest-bytes": String(manifest.length) },
      head: Buffer.concat([manifest, stream]),
      size: BIG - stream.length,
    });
    expect([r2.status, r2.json.error?.message]).toEqual([
      400,
      expect.stringMatching(/longer than the 4194304 bytes its manifest declares/),
    ]);
    expect(await db.release.count({ where: { app: "web", version: "0.9" } })).toBe(0);
  });

  it("a client that gives up half way through an upload leaves the server serving", async () => {
    const aborted = (url: string, path: string, headers: Record<string, string>, head: Buffer) =>
      new Promise<void>((resolve) => {
        const req = httpRequest(`${url}${path}`, {
          method: "POST",
          headers: { "content-length": String(head.length + BIG), ...headers },
        });
        req.on("error", () => resolve());
        req.write(head);
        const chunk = Buffer.alloc(1 << 20, 5);
        let n = 0;
        const t = setInterval(() => {
          req.write(chunk);
          if (++n === 8) {
            clearInterval(t);
            req.destroy();
            resolve();
          }
        }, 20);
      });
    // While the push reads the stream, and while a build unpacks the tar.
    const stream = randomBytes(BIG - (1 << 20));
    const manifest = Buffer.from(formatManifest(signedManifest(key, { app: "web", version: "0.8", stream })));
    await aborted(
      plain,
      "/api/releases/upload?mode=push",
      { ...auth("operator"), "x-keel-manifest-bytes": String(manifest.length) },
      Buffer.concat([manifest, stream.subarray(0, 1 << 20)]),
    );
    await aborted(
      onBtrfs,
      "/api/releases/upload?mode=build&format=tar&app=web&version=0.8",
      auth("operator"),
      Buffer.alloc(0),
    );
    // The build gave up too (its work directory is gone), rather than waiting for the rest.
    const uploads = join(btrfsDir, "uploads");
    await expect
      .poll(() => (existsSync(uploads) ? readdirSync(uploads) : []), { timeout: 30_000 })
      .toEqual([]);
    const r = await post(plain, "/api/releases/upload?mode=nope", {
      headers: auth("operator"),
      size: 1 << 20,
    });
    expect(r.status).toBe(400);
    expect(await db.release.count({ where: { version: "0.8" } })).toBe(0);
  });

  it("a build refused because the data directory is not on btrfs", async () => {
    const r = await post(plain, "/api/releases/upload?mode=build&app=web&version=1.0&format=tar", {
      headers: auth("operator"),
      size: BIG,
    });
    expect([r.status, r.json.error?.message]).toEqual([
      412,
      expect.stringMatching(/needs a btrfs build store.*subvolumes is not on btrfs/),
    ]);
  });

  it("builds on btrfs: 1.0, then 2.0 from it; refusals of a bad name, an existing version and a body that is no tar", async () => {
    const tree = (v: string) => {
      const dir = mkdtempSync(join(root, "tree-"));
      writeFileSync(join(dir, "VERSION"), `${v}\n`);
      writeFileSync(join(dir, "assets.bin"), Buffer.alloc(1 << 20, v.charCodeAt(0)));
      const tar = execFileSync("tar", ["--numeric-owner", "-C", dir, "-cf", "-", "."], {
        maxBuffer: 64 << 20,
      });
      rmSync(dir, { recursive: true, force: true });
      return tar;
    };
    const build = (q: string, head: Buffer, size = 0) =>
      post(onBtrfs, `/api/releases/upload?mode=build&format=tar&${q}`, {
        headers: auth("operator"),
        head,
        size,
      });

    const v1 = await build("app=web&version=1.0", tree("1.0"));
    expect([v1.status, v1.json.error]).toEqual([200, undefined]);
    expect(v1.json.result).toMatchObject({ app: "web", version: "1.0", parent: null });
    const v2 = await build("app=web&version=2.0", tree("2.0"));
    expect([v2.status, v2.json.error]).toEqual([200, undefined]);
    expect(v2.json.result).toMatchObject({ app: "web", version: "2.0", parent: "1.0" });

    // Each refusal below comes with a large body the console must read to the end.
    const badName = await build("app=Web%20App&version=3.0", Buffer.alloc(0), BIG);
    expect([badName.status, badName.json.error?.code]).toEqual([400, "BAD_REQUEST"]);
    const exists = await build("app=web&version=2.0", Buffer.alloc(0), BIG);
    expect([exists.status, exists.json.error?.message]).toEqual([
      409,
      expect.stringMatching(/web 2.0 already exists/),
    ]);
    const noTar = await build("app=web&version=3.0", Buffer.alloc(0), BIG);
    expect(noTar.status).toBe(400);
    expect(noTar.json.error?.message).toMatch(/the upload (could not be read as a|is not a valid) \.tar/);
    expect(await db.release.count({ where: { app: "web" } })).toBe(2);
  });
});
