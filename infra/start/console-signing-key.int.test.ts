// A fresh console makes its own signing key once, so its first build is signed without a key made
// by hand; it never makes another one behind the policy's back (after the admin retired or removed
// every key, a restart leaves it that way).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import { retireSigningKey } from "@/server/services/keys/retire-signing-key";
import { ensureConsoleSigningKey } from "./console-signing-key";

describe("the console's signing key on first start", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let dir: string;
  const secret = "f".repeat(40);
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    dir = mkdtempSync(join(tmpdir(), "keel-first-key-"));
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is made once, signs, is trusted and audited; a later start makes none, even with every key gone", async () => {
    const lines: string[] = [];
    const made = await ensureConsoleSigningKey({
      databaseUrl: tdb.url,
      secret,
      dataDir: dir,
      log: (l) => lines.push(l),
    });
    expect(made).not.toBeNull();
    expect(lines.join("\n")).toMatch(/release-signing key/);
    const box = createSecretBox({ secret, dataDir: dir });
    expect((await loadSigningKey({ db, box })).keyId).toBe(made!.keyId);
    const trusted = await listTrustedPublicKeys({ db });
    expect(JSON.stringify(trusted)).toContain(made!.keyId);
    const audit = await db.auditEvent.findMany({ where: { action: "signing_key.create" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actorId).toBeNull();
    expect(JSON.stringify(audit[0]!.detail)).not.toMatch(/PRIVATE/);

    expect(
      await ensureConsoleSigningKey({ databaseUrl: tdb.url, secret, dataDir: dir, log: () => {} }),
    ).toBeNull();
    await retireSigningKey({ db, actorId: null }, { keyId: made!.keyId, remove: true });
    expect(await db.signingKey.count({ where: { status: "active" } })).toBe(0);
    expect(
      await ensureConsoleSigningKey({ databaseUrl: tdb.url, secret, dataDir: dir, log: () => {} }),
    ).toBeNull();
    await expect(loadSigningKey({ db, box })).rejects.toThrow(/no active signing key/);
  });
});
