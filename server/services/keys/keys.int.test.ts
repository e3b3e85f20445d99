import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePublicKey, generateSigningKey } from "@/agent/protocol/keys";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createSecretBox } from "./secret-box";
import { createSigningKey } from "./create-signing-key";
import { importPublicKey } from "./import-public-key";
import { listSigningKeys } from "./list-signing-keys";
import { listTrustedPublicKeys } from "./list-trusted-public-keys";
import { loadSigningKey } from "./load-signing-key";
import { retireSigningKey } from "./retire-signing-key";

describe("signing keys", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-keys-"));
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates, rotates, retires and removes keys; private halves never leave encrypted storage", async () => {
    const box = createSecretBox({ secret: "s".repeat(40), dataDir: dir });
    await expect(loadSigningKey({ db, box })).rejects.toThrow(/no active signing key/);

    const a = await createSigningKey({ db, box, actorId: null }, { name: "release key 2026" });
    expect(parsePublicKey(a.publicKeyLine).keyId).toBe(a.keyId);
    const raw = await db.signingKey.findUniqueOrThrow({ where: { keyId: a.keyId } });
    expect(Buffer.from(raw.encryptedPrivateKey!).includes(Buffer.from("PRIVATE KEY"))).toBe(false);
    expect((await loadSigningKey({ db, box })).keyId).toBe(a.keyId);

    // Rotation: the newer key signs; after retiring the old one hosts still trust it.
    const b = await createSigningKey({ db, box, actorId: null }, { name: "release key 2027" });
    expect((await loadSigningKey({ db, box })).keyId).toBe(b.keyId);
    await retireSigningKey({ db, actorId: null }, { keyId: a.keyId });
    const listed = await listSigningKeys({ db });
    expect(JSON.stringify(listed)).not.toMatch(/BEGIN|PRIVATE KEY|encryptedPrivateKey/);
    expect(listed.map((k) => [k.keyId, k.status, k.isSigningKey])).toEqual([
      [b.keyId, "active", true],
      [a.keyId, "retired", false],
    ]);
    expect((await listTrustedPublicKeys({ db })).map((k) => [k.keyId, k.status])).toEqual([
      [a.keyId, "retired"],
      [b.keyId, "active"],
    ]);

    // Removal drops it from what hosts are told to trust, and from the database's secrets.
    await retireSigningKey({ db, actorId: null }, { keyId: a.keyId, remove: true });
    expect((await listTrustedPublicKeys({ db })).map((k) => k.keyId)).toEqual([b.keyId]);
    expect(
      (await db.signingKey.findUniqueOrThrow({ where: { keyId: a.keyId } })).encryptedPrivateKey,
    ).toBeNull();

    // A console started with another secret cannot use the key, and says why.
    const other = createSecretBox({ secret: "t".repeat(40), dataDir: dir });
    await expect(loadSigningKey({ db, box: other })).rejects.toThrow(
      /cannot be decrypted with the console's KEEL_SECRET/,
    );

    const actions = await db.auditEvent.findMany({
      orderBy: { id: "asc" },
      select: { action: true, target: true },
    });
    expect(actions).toEqual([
      { action: "signing_key.create", target: `key:${a.keyId}` },
      { action: "signing_key.create", target: `key:${b.keyId}` },
      { action: "signing_key.retire", target: `key:${a.keyId}` },
      { action: "signing_key.remove", target: `key:${a.keyId}` },
    ]);
  });

  it("imports an outside signer's public key once and refuses junk and bad names", async () => {
    const g = generateSigningKey("build-box");
    const r = await importPublicKey(
      { db, actorId: null },
      { name: "ci builder", publicKey: g.publicKeyLine },
    );
    expect(r.keyId).toBe(g.keyId);
    await expect(
      importPublicKey({ db, actorId: null }, { name: "again", publicKey: g.publicKeyLine }),
    ).rejects.toThrow(/already known/);
    await expect(
      importPublicKey({ db, actorId: null }, { name: "junk", publicKey: "ssh-rsa AAAA" }),
    ).rejects.toThrow(/not an ed25519 public key/);
    await expect(
      importPublicKey({ db, actorId: null }, { name: "-$(reboot)\n", publicKey: g.publicKeyLine }),
    ).rejects.toThrow(/not allowed/);
  });
});
