// Rollout plans on a real btrfs console (loop image) and real PostgreSQL: a host that holds an
// older version than the last build's parent gets an incremental stream made for it while planning
// (btrfs send -p from the console's subvolumes, signed, cached once), not the full stream; a host
// whose version the console holds no subvolume of gets the full stream with the reason; and the
// plan's digest is the same every time it is planned again.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkManifestSignature, parsePublicKey, validateManifest } from "@/agent/protocol";
import { seedHosts, seedUser } from "@/prisma/seed/fleet";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { buildRelease } from "@/server/services/releases/build-release";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { createRollout } from "./create-rollout";
import { planRollout } from "./plan-rollout";
import type { PlanHost, TRolloutSpec } from "./types";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";

let tdb: TestDatabase;
let db: PrismaClient;
let root: string;
let dataDir: string;
let deps: ReleaseDeps;
const fullBytes = new Map<string, number>();

const spec: TRolloutSpec = {
  action: "update",
  app: "web",
  version: "3.0",
  targets: { environments: ["dev"] },
  waves: ["100%"],
  failureThreshold: 0,
  parallelism: 10,
};
const byName = (hosts: PlanHost[]) => Object.fromEntries(hosts.map((h) => [h.name, h]));
const deltaRows = async (parent: string) =>
  db.releaseDelta.findMany({
    where: { release: { app: "web", version: "3.0" }, parent: { version: parent } },
    select: {
      id: true,
      manifest: true,
      streamBytes: true,
      encodedBytes: true,
      encoded2Digest: true,
      encoded2Bytes: true,
    },
  });

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = createDb(tdb.url);
  root = mkdtempSync(join(tmpdir(), "keel-plan-deltas-"));
  dataDir = mountBtrfs(root, "console", "1G");
  deps = {
    db,
    dataDir,
    store: createDiskArtifactStore({ dataDir }),
    box: createSecretBox({ secret: "plan-deltas-".padEnd(40, "x"), dataDir }),
    actorId: null,
  };
  await createSigningKey(deps, { name: "console" });
  // Each version changes one byte of a 4 MiB file and a small one: deltas are tiny, full streams are not.
  const src = join(root, "src");
  mkdirSync(src);
  writeFileSync(join(src, "big.bin"), Buffer.alloc(4 << 20, 5));
  for (const v of ["0.9", "1.0", "2.0", "3.0"]) {
    const big = readFileSync(join(src, "big.bin"));
    big[v.length * 4096 + Number(v[0]) * 100_000]! ^= 0xff;
    writeFileSync(join(src, "big.bin"), big);
    writeFileSync(join(src, "VERSION"), `${v}\n`);
    const b = await buildRelease(deps, { app: "web", version: v, source: { dir: src } });
    fullBytes.set(v, b.fullBytes);
  }
  // The console lost 0.9's subvolume (as if it had been pushed to a console without btrfs): no
  // incremental stream can be made from it any more.
  const lost = await db.release.findUniqueOrThrow({ where: { app_version: { app: "web", version: "0.9" } } });
  execFileSync("btrfs", ["subvolume", "delete", lost.subvolume!], { stdio: "ignore" });

  await seedHosts(db, 2, { prefix: "skipped", environment: "dev", app: "web", current: "1.0" });
  await seedHosts(db, 2, {
    prefix: "recent",
    environment: "dev",
    app: "web",
    current: "2.0",
    previous: "1.0",
  });
  await seedHosts(db, 1, { prefix: "new", environment: "dev" });
  await seedHosts(db, 1, { prefix: "old", environment: "dev", app: "web", current: "0.9" });
}, 300_000);

afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
  if (dataDir) {
    unmountBtrfs(dataDir);
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("rollout plans and incremental streams", () => {
  it("with only the cached streams, a host that skipped 2.0 would get the full stream", async () => {
    // The builds cached 0.9→1.0, 1.0→2.0 and 2.0→3.0; nothing from 1.0 to 3.0.
    expect(await deltaRows("1.0")).toHaveLength(0);
    const { plan } = await planRollout({ db }, spec, 1);
    const h = byName(plan.hosts);
    expect(h["skipped-000"]).toMatchObject({
      stream: "full",
      bytes: fullBytes.get("3.0"),
      note: "full stream: no incremental stream from 1.0 is cached",
    });
    expect(h["recent-000"]).toMatchObject({ stream: "delta", parent: "2.0" });
    expect(await deltaRows("1.0")).toHaveLength(0);
  });

  it("planning with the console's releases makes the missing delta once, and every host gets its cheapest stream", async () => {
    const { plan, digest } = await planRollout({ db, releases: deps }, spec, 1);
    const h = byName(plan.hosts);
    const full = fullBytes.get("3.0")!;

    const made = await deltaRows("1.0");
    expect(made).toHaveLength(1);
    // Made while planning, it holds its format-2 encoding too (decision 0040), in the artifact store.
    const enc2 = made[0]!.encoded2Digest;
    expect(enc2).toBeTruthy();
    expect((await deps.store.stat(enc2!))?.bytes).toBe(Number(made[0]!.encoded2Bytes));
    for (const name of ["skipped-000", "skipped-001"]) {
      expect(h[name]).toMatchObject({
        action: "update",
        from: "1.0",
        to: "3.0",
        stream: "delta",
        parent: "1.0",
      });
      expect(h[name]!.note).toBeUndefined();
      // What goes over the wire to a current agent: the smaller of the two encodings.
      expect(h[name]!.bytes).toBe(Math.min(Number(made[0]!.encodedBytes), Number(made[0]!.encoded2Bytes)));
      expect(h[name]!.bytes).toBeLessThan(full / 20);
    }
    // The made stream is signed by the console's key and names its parent, like a built one.
    const m = validateManifest(JSON.parse(made[0]!.manifest));
    const keys = (await listTrustedPublicKeys({ db })).map((k) => parsePublicKey(k.publicKeyLine));
    expect(checkManifestSignature(m, keys)).toMatchObject({ ok: true });
    expect(m).toMatchObject({ app: "web", version: "3.0", parent: { version: "1.0" } });

    // Nearest version first: hosts holding 2.0 and 1.0 get the cached 2.0 → 3.0 stream.
    for (const name of ["recent-000", "recent-001"])
      expect(h[name]).toMatchObject({ stream: "delta", parent: "2.0" });
    expect(h["new-000"]).toMatchObject({ action: "install", stream: "full", bytes: full });
    expect(h["new-000"]!.note).toBeUndefined();
    // 0.9's subvolume is gone from the console: full stream, and the plan says why.
    expect(h["old-000"]).toMatchObject({
      action: "update",
      stream: "full",
      bytes: full,
      note: "full stream: no incremental stream from 0.9 can be made: the console holds no subvolume of web 0.9",
    });
    expect(plan.totals.bytes).toBe(2 * h["skipped-000"]!.bytes + 2 * h["recent-000"]!.bytes + 2 * full);

    // Planned again (a replan, the preview, another console process): same plan, same digest,
    // and nothing is made twice.
    const deltasBefore = await db.releaseDelta.count();
    const auditBefore = await db.auditEvent.count({ where: { action: "release.delta" } });
    expect(auditBefore).toBe(4); // three from the builds, one made while planning
    const again = await planRollout({ db, releases: deps }, spec, 1);
    expect(again.digest).toBe(digest);
    expect(again.plan).toEqual(plan);
    expect(await db.releaseDelta.count()).toBe(deltasBefore);
    expect(await db.auditEvent.count({ where: { action: "release.delta" } })).toBe(auditBefore);
  });

  it("creating a rollout stores that plan: per host the stream, parent and bytes, bound to the digest", async () => {
    const operator = await seedUser(db, "op@example.test", ["operator"]);
    const r = await createRollout({ db, releases: deps }, operator, spec);
    const policy = r.plan.policyVersion;
    expect(r.digest).toBe((await planRollout({ db, releases: deps }, spec, policy)).digest);
    const rows = await db.rolloutHost.findMany({ where: { rolloutId: r.id }, orderBy: { hostName: "asc" } });
    expect(rows.map((x) => [x.hostName, x.streamKind, x.parentVersion])).toEqual([
      ["new-000", "full", null],
      ["old-000", "full", null],
      ["recent-000", "delta", "2.0"],
      ["recent-001", "delta", "2.0"],
      ["skipped-000", "delta", "1.0"],
      ["skipped-001", "delta", "1.0"],
    ]);
  });

  it("two console processes making the same delta at once keep one row, one audit entry and every blob it names", async () => {
    // Each import after resetModules is a module of its own, with its own in-process de-duplication,
    // as in two console processes (the web app and a worker): both encode, one insert loses.
    const id = async (v: string) =>
      (await db.release.findUniqueOrThrow({ where: { app_version: { app: "web", version: v } } })).id;
    const pair = { parentId: await id("3.0"), releaseId: await id("1.0") };
    const mod = () => import("@/server/services/releases/produce-delta");
    const a = await mod();
    vi.resetModules();
    const b = await mod();
    expect(a.produceDelta).not.toBe(b.produceDelta);
    const [x, y] = await Promise.all([a.produceDelta(deps, pair), b.produceDelta(deps, pair)]);

    expect(y).toEqual(x);
    expect(await db.releaseDelta.count({ where: pair })).toBe(1);
    const audits = await db.auditEvent.findMany({
      where: { action: "release.delta", target: "release:web@1.0" },
    });
    expect(audits.filter((e) => (e.detail as { parent?: string }).parent === "3.0")).toHaveLength(1);
    // The loser dropped nothing the winner's row names, and left nothing behind in uploads/.
    for (const digest of [x.streamDigest, x.encodedDigest!, x.encoded2Digest!])
      expect(await deps.store.stat(digest), digest).not.toBeNull();
    expect(readdirSync(join(dataDir, "uploads"))).toEqual([]);
  }, 120_000);
});
