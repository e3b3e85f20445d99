import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canonicalJson,
  formatManifest,
  generateSigningKey,
  parsePrivateKey,
  signManifest,
  type SigningKey,
} from "@/agent/protocol";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { importPublicKey } from "@/server/services/keys/import-public-key";
import { retireSigningKey } from "@/server/services/keys/retire-signing-key";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import type { ReleaseDeps } from "./deps";
import { pushRelease } from "./push-release";
import { signedManifest } from "./test-fixtures";

describe("release push", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  let deps: ReleaseDeps;
  let key: SigningKey; // a console key
  let outside: SigningKey; // an imported builder's key
  const stranger = parsePrivateKey(generateSigningKey().privateKeyPem);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-push-"));
    const box = createSecretBox({ secret: "p".repeat(40), dataDir: dir });
    deps = { db, box, dataDir: dir, store: createDiskArtifactStore({ dataDir: dir }), actorId: null };
    await createSigningKey(deps, { name: "console" });
    key = await loadSigningKey(deps);
    const g = generateSigningKey();
    outside = parsePrivateKey(g.privateKeyPem);
    await importPublicKey(deps, { name: "ci", publicKey: g.publicKeyLine });
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const push = (manifest: unknown, stream: Buffer) =>
    pushRelease(deps, {
      manifest: typeof manifest === "string" ? manifest : JSON.stringify(manifest),
      stream: Readable.from([stream]),
    });
  const blobs = () =>
    readdirSync(join(dir, "artifacts", "sha256"), { recursive: true }).filter((f) => String(f).length > 2);
  const count = () => db.release.count();

  it("stores a release signed by a trusted key; the identical push again is a no-op", async () => {
    const bytes = randomBytes(200_000);
    const m = signedManifest(outside, { app: "web", version: "1.0.0", stream: bytes });
    const r = await push(formatManifest(m), bytes);
    expect(r).toMatchObject({ status: "created", app: "web", version: "1.0.0" });
    expect(blobs()).toHaveLength(1);
    const again = await push(m, bytes);
    expect(again).toEqual({ ...r, status: "unchanged" });
    expect(await count()).toBe(1);
    const row = await db.release.findUniqueOrThrow({ where: { id: r.id } });
    expect(row).toMatchObject({
      signerKeyId: outside.keyId,
      streamBytes: 200_000n,
      source: "push",
      manifest: formatManifest(m),
    });
    expect(
      await db.auditEvent.count({ where: { action: "release.push", target: "release:web@1.0.0" } }),
    ).toBe(1);
  });

  it("refuses other bytes under an existing version", async () => {
    const bytes = randomBytes(1000);
    await expect(
      push(signedManifest(key, { app: "web", version: "1.0.0", stream: bytes }), bytes),
    ).rejects.toThrow(/web 1.0.0 already exists with other contents/);
    expect(await count()).toBe(1);
  });

  it("refuses a bad signature, an unknown key and a retired key", async () => {
    const bytes = randomBytes(1000);
    const m = signedManifest(key, { app: "api", version: "2.0", stream: bytes });
    // A valid signature over other bytes: change one field after signing.
    await expect(push({ ...m, kind: "runtime" }, bytes)).rejects.toThrow(
      /signature of api 2.0 does not verify/,
    );
    const flipped = Buffer.from(m.signature, "base64");
    flipped[0]! ^= 1;
    await expect(push({ ...m, signature: flipped.toString("base64") }, bytes)).rejects.toThrow(
      /does not verify/,
    );
    await expect(
      push(signedManifest(stranger, { app: "api", version: "2.0", stream: bytes }), bytes),
    ).rejects.toThrow(/signed by key [0-9a-f]{16}, which the console does not trust/);
    const { signature: _s, ...unsigned } = m;
    await expect(push(unsigned, bytes)).rejects.toThrow(/manifest.signature: must be a string/);

    const g = generateSigningKey();
    const old = parsePrivateKey(g.privateKeyPem);
    await importPublicKey(deps, { name: "old builder", publicKey: g.publicKeyLine });
    await retireSigningKey(deps, { keyId: old.keyId });
    await expect(
      push(signedManifest(old, { app: "api", version: "2.0", stream: bytes }), bytes),
    ).rejects.toThrow(/which is retired/);
    expect(await count()).toBe(1);
  });

  it("refuses a stream that does not match its manifest, and keeps nothing of it", async () => {
    const bytes = randomBytes(150_000);
    const m = signedManifest(key, { app: "api", version: "2.1", stream: bytes });
    const flipped = Buffer.from(bytes);
    flipped[70_000]! ^= 0x40;
    await expect(push(m, flipped)).rejects.toThrow(
      /api 2.1 refused: the stream's SHA-256 is [0-9a-f]{64}, its manifest declares/,
    );
    await expect(push(m, bytes.subarray(0, 149_999))).rejects.toThrow(
      /the stream has 149999 bytes, its manifest declares 150000/,
    );
    await expect(push(m, Buffer.concat([bytes, Buffer.from("x")]))).rejects.toThrow(
      /longer than the 150000 bytes/,
    );
    expect(await count()).toBe(1);
    expect(blobs()).toHaveLength(1);
    expect(readdirSync(join(dir, "uploads"))).toEqual([]);
  });

  it("refuses invalid names and extra fields, even when properly signed", async () => {
    const bytes = randomBytes(1000);
    for (const [app, version] of [
      ["../etc", "1"],
      ["web", "1/2"],
      ["web", "-rf"],
      ["web", "$(reboot)"],
      ["web\n", "1"],
      ["wеb", "1"], // Cyrillic е
      ["a".repeat(65), "1"],
      ["web", "1..2"],
    ] as const) {
      const base = signedManifest(key, { app: "web", version: "9", stream: bytes });
      const { signature: _s, signer: _k, ...rest } = base;
      const m = signManifest({ ...rest, app, version }, key);
      await expect(push(m, bytes), `${app} ${version}`).rejects.toThrow(
        /invalid manifest: manifest\.(app|version)/,
      );
    }
    const m = signedManifest(key, { app: "web", version: "9", stream: bytes });
    await expect(push({ ...m, approvedBy: "admin" }, bytes)).rejects.toThrow(
      /manifest.approvedBy: unknown field/,
    );
    await expect(push("{not json", bytes)).rejects.toThrow(/not JSON/);
    expect(canonicalJson(await db.release.findMany({ select: { app: true, version: true } }))).toBe(
      '[{"app":"web","version":"1.0.0"}]',
    );
  });
});
