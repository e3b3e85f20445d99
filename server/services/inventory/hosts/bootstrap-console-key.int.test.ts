// Enrollment's bootstrap against a real lab host whose sshd trusts only the admin's own key (the
// lab's key here), not the console's: a wrong fingerprint sends no credential, a wrong key or
// password installs nothing, the admin's key (as root) or a one-time password (as the lab's sudo
// user) installs the console's key once, after which the console logs in with its own key. The
// policy gates it like enroll_host, and the secret is in no audit row.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@prisma/client";
import { utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labDown, labUp, type LabInventory } from "@/infra/lab/api";
import { consoleIdentity } from "@/server/console-identity";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { activatePolicy } from "@/server/test/policy";
import { createCaller } from "@/server/trpc/root";
import { createContextInner, type Role } from "@/server/trpc/init";
import { createUser } from "@/server/services/users/create-user";
import { connect } from "@/server/ssh/connect";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";

const LAB = "boot" + randomBytes(3).toString("hex");
const PASSWORD = "one-time " + randomBytes(6).toString("hex");
let inv: LabInventory;
let tdb: TestDatabase;
let db: PrismaClient;
let dir: string;
let adminKey: string;
let consoleKey: string;
let admin: ReturnType<typeof createCaller>;
let operator: ReturnType<typeof createCaller>;
const oldDataDir = process.env.KEEL_DATA_DIR;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keel-bootstrap-"));
  process.env.KEEL_DATA_DIR = dir;
  consoleKey = consoleIdentity({ dataDir: dir }).privateKey;
  // The lab's hosts trust the lab's own key (the admin's key here), not the console's.
  inv = await labUp({ lab: LAB, count: 1 });
  adminKey = readFileSync(inv.consoleKey.privateKeyPath!, "utf8");
  tdb = await createTestDatabase();
  db = createDb(tdb.url);
  const person = async (email: string, roles: Role[]) => {
    const { user } = await createUser({
      db,
      actorId: null,
      input: { email, name: email, roles, password: "correct horse battery staple" },
    });
    return createCaller(createContextInner({ db, user: { id: user.id, email, name: email, roles } }));
  };
  // A policy under which enrolling a prod host needs an approver.
  await activatePolicy(db, {
    ...DEFAULT_POLICY,
    cedar: `${DEFAULT_POLICY.cedar}
@id("prod-enroll-approval")
@reason("enrolling a prod host needs an approver")
@approvals("1")
@approver_role("approver")
permit (principal, action == Keel::Action::"enroll_host", resource) when { context.environments.contains("prod") };
`,
  });
  admin = await person("admin@boot.test", ["admin"]);
  operator = await person("op@boot.test", ["operator"]);
}, 600_000);

afterAll(async () => {
  if (inv) execFileSync("usermod", ["-p", "*", inv.sudoUser]);
  await db?.$disconnect();
  await tdb?.drop();
  await labDown(LAB).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  if (oldDataDir === undefined) delete process.env.KEEL_DATA_DIR;
  else process.env.KEEL_DATA_DIR = oldDataDir;
}, 300_000);

const h = () => inv.hosts[0]!;
const base = (user = "root") => ({
  name: h().name,
  address: h().address,
  port: h().port,
  user,
  acceptedFingerprint: h().hostKeyFingerprint,
});
const asConsole = (user = "root") =>
  connect(
    {
      name: h().name,
      address: h().address,
      port: h().port,
      user,
      privateKey: consoleKey,
      pinnedFingerprint: h().hostKeyFingerprint,
    },
    { limits: { connectAttempts: 1 } },
  );

describe("bootstrap enrollment (ssh-copy-id style)", () => {
  it("installs the console's key with the admin's key or a one-time password, once, and stores no secret", async () => {
    await expect(asConsole()).rejects.toThrow(/refused the console's SSH key/);

    // A host presenting another key gets no credential.
    const otherFp = "SHA256:" + "A".repeat(43);
    await expect(
      admin.hosts.bootstrapKey({
        ...base(),
        acceptedFingerprint: otherFp,
        credential: { privateKey: adminKey },
      }),
    ).rejects.toThrow(/not the accepted .*No credential was sent/);
    // A key the host does not trust installs nothing.
    const stranger = utils.generateKeyPairSync("ed25519").private;
    await expect(
      admin.hosts.bootstrapKey({ ...base(), credential: { privateKey: stranger } }),
    ).rejects.toThrow(/refused the private key for root/);
    await expect(
      admin.hosts.bootstrapKey({ ...base(), credential: { privateKey: "not a key" } }),
    ).rejects.toThrow(/could not be read/);
    // Only admins, and only what the policy allows now (prod needs approval, which a secret cannot wait for).
    await expect(
      operator.hosts.bootstrapKey({ ...base(), credential: { privateKey: adminKey } }),
    ).rejects.toThrow();
    await expect(
      admin.hosts.bootstrapKey({ ...base(), environment: "prod", credential: { privateKey: adminKey } }),
    ).rejects.toThrow(/cannot wait for approval/);
    await expect(asConsole()).rejects.toThrow(/refused the console's SSH key/);

    expect(await admin.hosts.bootstrapKey({ ...base(), credential: { privateKey: adminKey } })).toEqual({
      name: h().name,
      added: true,
      method: "private key",
    });
    const c = await asConsole();
    expect((await c.exec(["id", "-u"])).stdout.toString().trim()).toBe("0");
    await c.close();
    expect(await admin.hosts.bootstrapKey({ ...base(), credential: { privateKey: adminKey } })).toMatchObject(
      { added: false },
    );

    // A one-time password for the sudo user (sshd checks it; root may not log in with one).
    const hash = execFileSync("openssl", ["passwd", "-6", PASSWORD]).toString().trim();
    execFileSync("usermod", ["-p", hash, inv.sudoUser]);
    await expect(
      admin.hosts.bootstrapKey({ ...base(inv.sudoUser), credential: { password: "wrong" } }),
    ).rejects.toThrow(/refused the password/);
    expect(
      await admin.hosts.bootstrapKey({ ...base(inv.sudoUser), credential: { password: PASSWORD } }),
    ).toMatchObject({ added: true, method: "password" });
    execFileSync("usermod", ["-p", "*", inv.sudoUser]);
    const s = await asConsole(inv.sudoUser);
    expect((await s.exec(["id", "-un"])).stdout.toString().trim()).toBe(inv.sudoUser);
    await s.close();

    const rows = await db.auditEvent.findMany({
      where: { action: { startsWith: "host.console_key" } },
      orderBy: { id: "asc" },
    });
    expect(rows.map((r) => r.action)).toEqual([
      "host.console_key_failed", // host key
      "host.console_key_failed", // stranger key
      "host.console_key_failed", // not a key
      "host.console_key_installed",
      "host.console_key_installed",
      "host.console_key_failed", // wrong password
      "host.console_key_installed",
    ]);
    const all = JSON.stringify((await db.auditEvent.findMany()).map((r) => ({ ...r, id: String(r.id) })));
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(adminKey.split("\n")[1]!);
    expect(all).toContain("cannot wait for approval");
  });
});
