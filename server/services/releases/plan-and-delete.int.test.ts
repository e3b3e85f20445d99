import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatManifest, type SigningKey } from "@/agent/protocol";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import type { ReleaseDeps } from "./deps";
import { pushRelease } from "./push-release";
import { planStream } from "./plan-stream";
import { openReleaseStream } from "./open-release-stream";
import { deleteRelease } from "./delete-release";
import { signedManifest } from "./test-fixtures";

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe("stream planner and release deletion", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  let deps: ReleaseDeps;
  let key: SigningKey;
  const ids = new Map<string, string>();
  const streams = new Map<string, Buffer>();

  // Versions pushed out of order; 1.10 sorts after 1.9.
  const versions = ["1.9", "1.0", "1.10", "1.2", "2.0"];

  /** A cached delta row as produceDelta would leave it (its bytes in the artifact store). */
  async function cacheDelta(
    parent: string,
    version: string,
    bytes: number,
    encodedBytes: number,
    encoded2Bytes?: number,
  ) {
    const raw = await deps.store.put(randomBytes(bytes));
    const enc = await deps.store.put(randomBytes(encodedBytes));
    const enc2 = encoded2Bytes ? await deps.store.put(randomBytes(encoded2Bytes)) : null;
    for (const b of [raw, enc, ...(enc2 ? [enc2] : [])])
      await db.artifact.upsert({
        where: { digest: b.digest },
        create: { digest: b.digest, bytes: BigInt(b.bytes) },
        update: {},
      });
    const m = signedManifest(key, { app: "web", version, stream: Buffer.alloc(1) });
    await db.releaseDelta.create({
      data: {
        parentId: ids.get(parent)!,
        releaseId: ids.get(version)!,
        manifest: formatManifest(m),
        signerKeyId: key.keyId,
        streamDigest: raw.digest,
        streamBytes: BigInt(raw.bytes),
        encodedDigest: enc.digest,
        encodedBytes: BigInt(enc.bytes),
        ...(enc2 ? { encoded2Digest: enc2.digest, encoded2Bytes: BigInt(enc2.bytes) } : {}),
      },
    });
    return { raw, enc, enc2 };
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-plan-"));
    deps = {
      db,
      dataDir: dir,
      store: createDiskArtifactStore({ dataDir: dir }),
      box: createSecretBox({ secret: "q".repeat(40), dataDir: dir }),
      actorId: null,
    };
    await createSigningKey(deps, { name: "console" });
    key = await loadSigningKey(deps);
    for (const v of versions) {
      const bytes = randomBytes(100_000);
      streams.set(v, bytes);
      const m = signedManifest(key, { app: "web", version: v, stream: bytes });
      ids.set(
        v,
        (await pushRelease(deps, { manifest: formatManifest(m), stream: Readable.from([bytes]) })).id,
      );
    }
    await cacheDelta("1.9", "1.10", 5_000, 800);
    await cacheDelta("1.2", "1.10", 9_000, 900, 700); // with its format-2 encoding (decision 0040)
    await cacheDelta("1.0", "1.10", 20_000, 3_000);
    await cacheDelta("1.10", "2.0", 150_000, 120_000); // larger than the full stream
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (hostVersions: string[], version: string) =>
    planStream({ db, hostVersions, app: "web", version });

  it("picks the nearest version the host holds, by version order (1.10 after 1.9)", async () => {
    expect(await plan(["1.0", "1.2", "1.9"], "1.10")).toMatchObject({
      kind: "delta",
      parent: "1.9",
      bytes: 800,
      streamBytes: 5_000,
    });
    // 1.2's delta has a smaller format-2 encoding: the plan counts what a current agent receives.
    expect(await plan(["1.0", "1.2"], "1.10")).toMatchObject({ kind: "delta", parent: "1.2", bytes: 700 });
    expect(await plan(["1.0", "0.1-unknown"], "1.10")).toMatchObject({
      kind: "delta",
      parent: "1.0",
      bytes: 3_000,
    });
  });

  it("falls back to the full stream when the host holds nothing usable or the delta is not smaller", async () => {
    expect(await plan([], "1.10")).toEqual({ kind: "full", bytes: 100_000, releaseId: ids.get("1.10") });
    expect(await plan(["2.0"], "1.9")).toMatchObject({ kind: "full", bytes: 100_000 }); // no delta cached, none can be made
    expect(await plan(["1.10"], "2.0")).toMatchObject({ kind: "full", bytes: 100_000 });
    expect(await plan(["1.9", "1.10"], "1.10")).toMatchObject({ kind: "none", bytes: 0 });
    await expect(plan([], "3.0")).rejects.toThrow(/there is no release web 3.0/);
  });

  it("opens the planned stream's signed manifest and bytes from the artifact store", async () => {
    const full = await openReleaseStream(deps, await plan([], "1.2"));
    expect(JSON.parse(full.manifest)).toMatchObject({ app: "web", version: "1.2" });
    expect(await readAll(await full.open())).toEqual(streams.get("1.2"));
    const delta = await openReleaseStream(deps, await plan(["1.9"], "1.10"));
    expect((await readAll(await delta.openEncoded!())).length).toBe(800);
  });

  it("refuses to delete a release a host runs or can roll back to; otherwise removes it, its deltas and unused blobs", async () => {
    const host = await db.host.create({
      data: { name: "web-01", address: "10.0.0.1", hostKeyFingerprint: "SHA256:x" },
    });
    await db.installedVersion.createMany({
      data: [
        { hostId: host.id, app: "web", version: "1.10", isCurrent: true },
        { hostId: host.id, app: "web", version: "1.9", isPrevious: true },
        { hostId: host.id, app: "web", version: "1.2" },
      ],
    });
    await expect(deleteRelease(deps, { app: "web", version: "1.10" })).rejects.toThrow(
      /web 1.10 is still in use on 1 host\(s\): web-01 \(current\)/,
    );
    await expect(deleteRelease(deps, { app: "web", version: "1.9" })).rejects.toThrow(/web-01 \(previous\)/);
    expect(await db.release.count()).toBe(5);

    const blobsBefore = await db.artifact.count();
    const enc2 = (await db.releaseDelta.findFirstOrThrow({ where: { parentId: ids.get("1.2") } }))
      .encoded2Digest!;
    const r = await deleteRelease(deps, { app: "web", version: "1.2" }); // installed but neither current nor previous
    // its full stream + the 1.2→1.10 delta and its two encodings
    expect(r).toEqual({ app: "web", version: "1.2", deletedArtifacts: 4 });
    expect(await db.artifact.count()).toBe(blobsBefore - 4);
    expect(await deps.store.stat(enc2)).toBeNull();
    expect(await db.releaseDelta.count({ where: { parentId: ids.get("1.2") } })).toBe(0);
    expect(await plan(["1.2"], "1.10")).toMatchObject({ kind: "full" });
    await expect(
      deps.store.stat((await db.release.findFirstOrThrow({ where: { version: "1.9" } })).streamDigest),
    ).resolves.toEqual({ bytes: 100_000 });
    expect(
      await db.auditEvent.count({ where: { action: "release.delete", target: "release:web@1.2" } }),
    ).toBe(1);
  });

  it("keeps a blob two releases share until the last one goes", async () => {
    const bytes = randomBytes(70_000);
    const a = await pushRelease(deps, {
      manifest: signedManifest(key, { app: "api", version: "1", stream: bytes }),
      stream: Readable.from([bytes]),
    });
    await pushRelease(deps, {
      manifest: signedManifest(key, { app: "api", version: "1-copy", stream: bytes }),
      stream: Readable.from([bytes]),
    });
    const digest = (await db.release.findUniqueOrThrow({ where: { id: a.id } })).streamDigest;
    expect((await deleteRelease(deps, { app: "api", version: "1" })).deletedArtifacts).toBe(0);
    expect(await deps.store.stat(digest)).toEqual({ bytes: 70_000 });
    expect((await deleteRelease(deps, { app: "api", version: "1-copy" })).deletedArtifacts).toBe(1);
    expect(await deps.store.stat(digest)).toBeNull();
  });
});
