// The `keel` CLI against the console's real tRPC handler on a real HTTP port and PostgreSQL.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import type { TestDatabase } from "@/server/test/db";
import { startCliConsole, type CliConsole } from "@/server/test/cli-console";
import { createDb } from "@/server/db";
import { appendAudit } from "@/server/services/audit/append-audit";
import { writeAuditCheckpoint } from "@/server/services/audit/write-audit-checkpoint";
import { rewriteAuditRow } from "@/server/test/audit-tamper";
import { seedHosts, seedRelease } from "@/prisma/seed/fleet";
import { commands } from "./commands/index";
import { runKeel } from "@/server/test/run-keel";
import { signInThrottle } from "@/server/auth/sign-in-throttle";
import { consoleIdentity } from "@/server/console-identity";

const run = promisify(execFile);
let cc: CliConsole;
let t: TestDatabase;
let db: PrismaClient;
const dir = mkdtempSync(join(tmpdir(), "keel-cli-"));
const configFile = join(dir, "keel", "config.json");
const env: NodeJS.ProcessEnv = { ...process.env, KEEL_CONFIG: configFile };
delete env.KEEL_API_URL;
delete env.KEEL_TOKEN;
// The console's data dir, where audit verify finds the signed checkpoints (read through getEnv()).
const dataDir = join(dir, "data");
const savedDataDir = process.env.KEEL_DATA_DIR;
process.env.KEEL_DATA_DIR = dataDir;

async function cli(...argv: string[]) {
  return runKeel(env, argv);
}

beforeAll(async () => {
  cc = await startCliConsole();
  ({ t, db } = cc);
});
afterAll(async () => {
  await cc?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (savedDataDir === undefined) delete process.env.KEEL_DATA_DIR;
  else process.env.KEEL_DATA_DIR = savedDataDir;
});

describe("keel CLI", () => {
  it("npx keel login checks the token and saves it with mode 600", async () => {
    const r = await run(
      process.execPath,
      ["server/cli/bin.mjs", "login", "--url", cc.url, "--token", cc.tokens.admin],
      { env },
    );
    expect(r.stdout).toMatch(/Logged in to .* as admin@keel\.local \(admin\)/);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
  });

  it("whoami, users list and audit verify", async () => {
    expect((await cli("whoami")).out).toEqual(["admin@keel.local (Admin) roles: admin"]);
    const users = await cli("users", "list");
    expect(users.code).toBe(0);
    expect(users.out[0]).toMatch(/^EMAIL\s+NAME\s+ROLES/);
    expect(users.out.some((l) => /^aud@keel\.local\s+Aud\s+auditor\s+active/.test(l))).toBe(true);
    const verify = await cli("audit", "verify");
    expect(verify.code).toBe(0);
    expect(verify.out[0]).toMatch(/^audit chain intact: \d+ events verified/);
  });

  it("users unlock forgets an account's failed sign-ins (the console runs in this process, so its throttle is this one)", async () => {
    for (let i = 0; i < 8; i++) signInThrottle().failed("192.0.2.1", "aud@keel.local");
    expect(signInThrottle().waitMs("192.0.2.1", "aud@keel.local")).toBeGreaterThan(0);
    const r = await cli("users", "unlock", "aud@keel.local");
    expect([r.code, r.out]).toEqual([
      0,
      ["aud@keel.local: failed sign-ins forgotten; the account can sign in again at once"],
    ]);
    expect(signInThrottle().waitMs("192.0.2.1", "aud@keel.local")).toBe(0);
    expect((await cli("users", "unlock", "nobody@keel.local")).err.join("\n")).toMatch(
      /no user with the e-mail nobody@keel\.local/,
    );
  });

  it("hosts remove retires the host: it leaves the list, and hosts show still finds it, marked retired and by whom", async () => {
    await seedHosts(db, 2, {
      prefix: "old",
      environment: "prod",
      app: "web",
      current: "2.0",
      previous: "1.9",
    });
    const removed = await cli("hosts", "remove", "old-000");
    expect(removed.code).toBe(0);
    expect(removed.out[0]).toMatch(/^removed old-000 from the inventory at .*; its history is kept/);
    const list = await cli("hosts", "list", "--search", "old-");
    expect(list.out.some((l) => l.startsWith("old-001"))).toBe(true);
    expect(list.out.some((l) => l.startsWith("old-000"))).toBe(false);
    const show = await cli("hosts", "show", "old-000");
    expect(show.code).toBe(0);
    expect(show.out).toContainEqual(
      expect.stringMatching(/^RETIRED\s+removed from the inventory at .* by admin@keel\.local/),
    );
  });

  it("hosts list pages by cursor: 100 shown with the next page's --after, which shows the rest; --all lists every host", async () => {
    await seedHosts(db, 130, { prefix: "many", environment: "dev" });
    const first = await cli("hosts", "list", "--search", "many-");
    expect(first.err).toEqual([]);
    expect(first.out.filter((l) => l.startsWith("many-"))).toHaveLength(100);
    expect(first.out).toContain("130 hosts, 100 shown");
    const after = /^next page: --after (\S+)$/.exec(first.out.at(-1) ?? "")?.[1];
    expect(after, first.out.slice(-3).join("\n")).toBeDefined();
    const second = await cli("hosts", "list", "--search", "many-", "--after", after!);
    const names = second.out.filter((l) => l.startsWith("many-")).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(Array.from({ length: 30 }, (_, i) => `many-${100 + i}`));
    expect(second.out.some((l) => l.startsWith("previous page: --before "))).toBe(true);
    const all = await cli("hosts", "list", "--search", "many-", "--all");
    expect(all.out.filter((l) => l.startsWith("many-"))).toHaveLength(130);
    const json = JSON.parse(
      (await cli("hosts", "list", "--search", "many-", "--all", "--json")).out.join("\n"),
    ) as { rows: { name: string }[] };
    expect(new Set(json.rows.map((r) => r.name)).size).toBe(130);
  });

  it("rollout schedule/unschedule: the scheduled start shows in status until cancelled; a schedule needs --at or --next-window", async () => {
    await seedHosts(db, 2, { prefix: "sched", environment: "dev" });
    await seedRelease(db, "cron", "1.0");
    const created = await cli("rollout", "create", "cron", "1.0", "env=dev");
    const n = /^rollout (\d+) created: approved$/.exec(created.out[0] ?? "")?.[1];
    expect(n, created.err.join("\n")).toBeDefined();
    expect((await cli("rollout", "schedule", n!)).err.join("\n")).toMatch(
      /usage: keel rollout schedule NUMBER --at ISO-TIME \| --next-window/,
    );
    expect((await cli("rollout", "schedule", n!, "--at", "tonight")).err.join("\n")).toMatch(
      /--at "tonight" is not a time/,
    );
    expect((await cli("rollout", "schedule", n!, "--at", "2099-01-01T22:00:00Z")).out).toEqual([
      `rollout ${n}: starts at 2099-01-01T22:00:00.000Z`,
    ]);
    expect((await cli("rollout", "status", n!)).out).toContain(
      "starts at 2099-01-01T22:00:00.000Z (scheduled by admin@keel.local)",
    );
    expect((await cli("rollout", "unschedule", n!)).out).toEqual([`rollout ${n}: schedule cancelled`]);
    expect((await cli("rollout", "status", n!)).out.some((l) => l.startsWith("starts at"))).toBe(false);
    expect((await cli("rollout", "unschedule", n!)).err.join("\n")).toMatch(/has no scheduled start/);
  });

  it("audit verify exits 2 and names the row a checkpoint committed to when a superuser rewrote the log and its hashes", async () => {
    mkdirSync(dataDir, { recursive: true });
    await appendAudit(db, { actorId: null, action: "test.before_rewrite" });
    expect(await writeAuditCheckpoint({ db, dataDir })).toMatchObject({ written: true });
    expect((await cli("audit", "verify")).out[0]).toMatch(
      /^audit chain intact: \d+ events verified .*; matches 1 signed checkpoint\(s\), the newest #1 of /,
    );
    const head = await db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    const first = await db.auditEvent.findFirstOrThrow({ orderBy: { id: "asc" } });
    const su = createDb(t.superuserUrl);
    try {
      await rewriteAuditRow(su, first.id, { forged: true });
    } finally {
      await su.$disconnect();
    }
    const r = await cli("audit", "verify");
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^keel: audit log REWRITTEN: audit row ${head.id} \\(.* UTC, test\\.before_rewrite\\) differs from checkpoint 1 of .*: the log was rewritten after that time`,
        ),
      ),
    ]);
    rmSync(dataDir, { recursive: true, force: true }); // the next test tampers without recomputing
  });

  it("audit verify exits 2 and names the altered event", async () => {
    await appendAudit(db, { actorId: null, action: "test.tamper", detail: { n: 1 } });
    const row = await db.auditEvent.findFirstOrThrow({ where: { action: "test.tamper" } });
    const c = new pg.Client({ connectionString: t.superuserUrl });
    await c.connect();
    await c.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    await c.query(`UPDATE audit_events SET detail = '{"n": 2}' WHERE id = $1`, [row.id.toString()]);
    await c.query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    await c.end();
    const r = await cli("audit", "verify");
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(`BROKEN at event #${row.id} (test.tamper`);
  });

  it("--help on any command prints its usage to stdout and exits 0; --json prints the console's answers", async () => {
    for (const argv of [["release", "--help"], ["hosts", "-h"], ["help", "rollout"], ["--help"]]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(0);
      expect(r.err, argv.join(" ")).toEqual([]);
      expect(r.out.join("\n"), argv.join(" ")).toMatch(/usage:/);
    }
    expect((await cli("release", "--help")).out.join("\n")).toContain("keel release build");
    const users = await cli("users", "list", "--json");
    expect(users.code).toBe(0);
    const parsed = JSON.parse(users.out.join("\n")) as { email: string; roles: string[] }[];
    expect(parsed.find((u) => u.email === "aud@keel.local")?.roles).toEqual(["auditor"]);
    const policy = await cli("policy", "show", "--json");
    expect(Object.keys(JSON.parse(policy.out.join("\n")) as object)).toContain("cedar");
  });

  it("every command's --help goes to stdout with exit 0, and every listing answers --json with JSON", async () => {
    for (const c of commands) {
      const r = await cli(c.name, "--help");
      expect(r.code, c.name).toBe(0);
      expect(r.err, c.name).toEqual([]);
      expect(r.out.join("\n"), c.name).toContain(`keel ${c.name}`);
    }
    const listings = [
      ["hosts", "list"],
      ["release", "list"],
      ["keys", "list"],
      ["rollout", "list"],
      ["users", "list"],
      ["audit", "list", "--limit", "5"],
    ];
    for (const argv of listings) {
      const r = await cli(...argv, "--json");
      expect(r.code, `${argv.join(" ")}: ${r.err.join(" ")}`).toBe(0);
      expect(() => JSON.parse(r.out.join("\n")), argv.join(" ")).not.toThrow();
    }
    const audit = await cli("audit", "list", "--action", "user.", "--limit", "5");
    expect(audit.code, audit.err.join(" ")).toBe(0);
    expect(audit.out[0]).toMatch(/^#\s+AT\s+ACTOR\s+ACTION/);
    expect(audit.out.slice(1).every((l) => /\suser\./.test(l))).toBe(true);
    expect((await cli("rollout", "list")).code).toBe(0);
  });

  it("keel ssh-key prints the console's public key, the one hosts must authorize", async () => {
    const keyDir = mkdtempSync(join(tmpdir(), "keel-cli-key-"));
    const old = process.env.KEEL_DATA_DIR;
    process.env.KEEL_DATA_DIR = keyDir; // the console (same process here) reads its key from its data dir
    try {
      const missing = await cli("ssh-key");
      expect(missing.code).toBe(1);
      expect(missing.err[0]).toMatch(/no SSH key yet/);
      const made = consoleIdentity({ dataDir: keyDir });
      const r = await cli("ssh-key");
      expect(r.code).toBe(0);
      expect(r.out).toEqual([made.publicKey]);
      expect(r.err[0]).toMatch(/^# fingerprint SHA256:[A-Za-z0-9+/]{43};/);
    } finally {
      if (old === undefined) delete process.env.KEEL_DATA_DIR;
      else process.env.KEEL_DATA_DIR = old;
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it("prints one line and exits non-zero for a refused role, a bad token, an unreachable console and bad usage", async () => {
    const auditorEnv = { ...env, KEEL_API_URL: cc.url, KEEL_TOKEN: cc.tokens.auditor };
    const refused = await runKeel(auditorEnv, ["users", "list"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([expect.stringMatching(/^keel: refused: users\.list needs the role admin/)]);

    const bad = await runKeel({ ...env, KEEL_API_URL: cc.url, KEEL_TOKEN: "keel_" + "x".repeat(43) }, [
      "whoami",
    ]);
    expect(bad.err).toEqual([expect.stringMatching(/^keel: The API token is not valid.*keel login/)]);
    expect(bad.code).toBe(1);

    const down = await runKeel({ ...env, KEEL_API_URL: "http://127.0.0.1:1", KEEL_TOKEN: cc.tokens.admin }, [
      "whoami",
    ]);
    expect(down.err).toEqual([
      expect.stringMatching(/^keel: cannot reach the console at http:\/\/127\.0\.0\.1:1/),
    ]);
    expect(down.code).toBe(1);

    const usage = await cli("users", "delete");
    expect(usage.err).toEqual(["keel: usage: keel users list | keel users unlock EMAIL"]);
    expect((await cli("frobnicate")).code).toBe(1);
  });
});
