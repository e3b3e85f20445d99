// `keel release build … --kind runtime` and `--requires` against the console's real upload handler
// on a btrfs data directory (loop image) and a real database (decision 0023): the requirement is
// signed into the full and the incremental manifest, `keel release show` lists it, and a bad range,
// a requirement on a runtime or a malformed list is refused before anything is built.
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

describe("keel release build with requires", () => {
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
    root = mkdtempSync(join(tmpdir(), "keel-build-req-"));
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

  it("signs the requirement into every manifest of the build, and show lists it", async () => {
    expect((await keel("release", "build", tree("rt1"), "--app", "rt", "--version", "1.0", "--kind", "runtime")).code).toBe(0);
    expect((await keel("release", "build", tree("a1"), "--app", "svc", "--version", "1.0", "--requires", "rt@^1")).code).toBe(0);
    const r = await keel("release", "build", tree("a2"), "--app", "svc", "--version", "1.1", "--requires", "rt@>=1.2 <2, other@~3");
    expect(r.code, r.err).toBe(0);
    const row = await db.release.findUniqueOrThrow({ where: { app_version: { app: "svc", version: "1.1" } }, include: { deltasTo: true } });
    const want = [{ runtime: "rt", versions: ">=1.2 <2" }, { runtime: "other", versions: "~3" }];
    expect((await verified(row.manifest)).requires).toEqual(want);
    expect((await verified(row.deltasTo[0]!.manifest)).requires).toEqual(want);
    expect((await db.release.findUniqueOrThrow({ where: { app_version: { app: "rt", version: "1.0" } } })).kind).toBe("runtime");
    expect((await keel("release", "show", "svc", "1.1")).out).toContain("requires: rt >=1.2 <2, other ~3");
  });

  it("refuses bad requirements before building anything", async () => {
    const cases: [string[], RegExp][] = [
      [["--requires", "rt@newest"], /requires\[0\]\.versions: "newest": "newest" is not a range; write =newest for exactly that version/],
      [["--requires", "rt"], /requires: "rt" must be RUNTIME@RANGE, e\.g\. node@\^20/],
      [["--requires", "Rt@1"], /requires\[0\]\.runtime: runtime name "Rt" does not match/],
      [["--requires", "rt@1, rt@2"], /rt is required twice/],
      [["--kind", "runtime", "--requires", "rt@1"], /only apps require runtimes \(this build is a runtime\)/],
    ];
    for (const [flags, message] of cases) {
      const r = await keel("release", "build", tree("bad"), "--app", "bad", "--version", "1.0", ...flags);
      expect(r.code, flags.join(" ")).not.toBe(0);
      expect(r.err, flags.join(" ")).toMatch(message);
    }
    expect(await db.release.count({ where: { app: "bad" } })).toBe(0);
  });
});
