// `keel notifications` against the console's real tRPC handler on a real HTTP port and PostgreSQL:
// --help to stdout with exit 0, add-webhook prints the secret once, list and deliveries (also as
// --json), test queues a delivery, remove; an auditor reads but cannot add.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { startCliConsole, type CliConsole } from "@/server/test/cli-console";
import { runKeel } from "@/server/test/run-keel";

let cc: CliConsole;
let db: PrismaClient;
const dir = mkdtempSync(join(tmpdir(), "keel-notify-cli-"));
const env: NodeJS.ProcessEnv = { ...process.env, KEEL_CONFIG: join(dir, "config.json") };
delete env.KEEL_API_URL;
delete env.KEEL_TOKEN;
const saved = { dataDir: process.env.KEEL_DATA_DIR, allow: process.env.KEEL_WEBHOOK_ALLOW_PRIVATE };
process.env.KEEL_DATA_DIR = join(dir, "data"); // the secret box's key file
process.env.KEEL_WEBHOOK_ALLOW_PRIVATE = "1";
const cli = (...argv: string[]) => runKeel(env, argv);
const as = (who: "admin" | "auditor") => cli("login", "--url", cc.url, "--token", cc.tokens[who]);

beforeAll(async () => {
  cc = await startCliConsole();
  db = cc.db;
});
afterAll(async () => {
  await cc?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of [
    ["KEEL_DATA_DIR", saved.dataDir],
    ["KEEL_WEBHOOK_ALLOW_PRIVATE", saved.allow],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

it("keel notifications: help, add-webhook, list, test, deliveries, remove; auditors read only", async () => {
  const help = await cli("notifications", "--help");
  expect(help.code).toBe(0);
  expect(help.out.join("\n")).toMatch(/keel notifications add-webhook NAME URL --events/);

  expect((await as("admin")).code).toBe(0);
  expect((await cli("notifications", "list")).out).toEqual([
    "no notification channels; add one with `keel notifications add-webhook NAME URL --events …`",
  ]);
  const bad = await cli(
    "notifications",
    "add-webhook",
    "x",
    "ftp://example.com/",
    "--events",
    "rollout.failed",
  );
  expect(bad.code).not.toBe(0);
  expect(bad.err.join("\n")).toMatch(/webhook URLs must be http or https, not ftp/);
  const added = await cli(
    "notifications",
    "add-webhook",
    "ops",
    "http://127.0.0.1:9/hook",
    "--events",
    "rollout.failed,approval.requested",
  );
  expect(added.code).toBe(0);
  expect(added.out[0]).toBe("added webhook ops; its signing secret (shown once, keep it with the receiver):");
  expect(added.out[1]).toMatch(/^whsec_[0-9a-f]{64}$/);

  const list = await cli("notifications", "list");
  expect(list.out[0]).toMatch(/^NAME\s+KIND\s+TO\s+EVENTS/);
  expect(list.out[1]).toMatch(
    /^ops\s+webhook\s+http:\/\/127\.0\.0\.1:9\/hook\s+approval\.requested,rollout\.failed\s+0\s+0\s+0$/,
  );
  const json = JSON.parse((await cli("notifications", "list", "--json")).out.join("\n")) as {
    name: string;
    secret?: string;
  }[];
  expect(json).toMatchObject([
    { name: "ops", kind: "webhook", events: ["approval.requested", "rollout.failed"] },
  ]);
  expect(JSON.stringify(json)).not.toContain("whsec_");

  expect((await cli("notifications", "test", "ops")).out[0]).toMatch(/^queued a test notification to ops/);
  const deliveries = await cli("notifications", "deliveries", "ops");
  expect(deliveries.out[1]).toMatch(/\sops\s+notification\.test\s+pending\s+0\s*$/);
  const dj = JSON.parse((await cli("notifications", "deliveries", "--json")).out.join("\n")) as {
    event: string;
    state: string;
  }[];
  expect(dj).toMatchObject([{ event: "notification.test", state: "pending", channel: "ops" }]);

  expect((await as("auditor")).code).toBe(0);
  expect((await cli("notifications", "list")).out[1]).toMatch(/^ops\s/);
  const denied = await cli(
    "notifications",
    "add-email",
    "mail",
    "--to",
    "a@example.com",
    "--events",
    "rollout.failed",
  );
  expect(denied.code).not.toBe(0);
  expect(denied.err.join("\n")).toMatch(/admin/i);

  await as("admin");
  expect((await cli("notifications", "remove", "ops")).out).toEqual([
    "removed ops; its deliveries stay listed",
  ]);
  expect((await cli("notifications", "remove", "ops")).err.join("\n")).toMatch(
    /no notification channel named "ops"/,
  );
  const actions = (
    await db.auditEvent.findMany({
      where: { action: { startsWith: "notification." } },
      orderBy: { id: "asc" },
    })
  ).map((a) => a.action);
  expect(actions).toEqual(["notification.channel_add", "notification.test", "notification.channel_remove"]);
});
