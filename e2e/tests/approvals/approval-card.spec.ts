// What an approver sees on the approval card, in the browser: a console of its own (btrfs data
// directory), two lab hosts in dev holding web 1.0 (built and installed by the console). The policy
// is then changed (proposed by the admin, approved by an approver) so that an operator's dev update
// needs one approver, and dev gets a maintenance window, 18:00–20:00 UTC. The operator asks for
// web 2.0 in two waves; the approver's card shows why (the policy's reason), the window and the
// next time it could start, the risk, and per host: wave, 1.0 → 2.0, the stream and its bytes.
// Approving there confirms what it did, and the rollout is approved.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { type APIRequestContext } from "@playwright/test";
import { startRolloutConsole, type RolloutConsole } from "../../fixtures/rollout-console";
import { expect, signIn, test } from "../../fixtures/test";
import { signedInApi, trpcOk } from "../../fixtures/api";

const LAB = "e2eac" + randomBytes(2).toString("hex");
const PASSWORD = "approval-card-e2e-password-1";
const DEV_RULE = `
@id("dev-updates-need-approval")
@reason("dev updates by an operator need an approver in this test")
@approvals("1")
@approver_role("approver")
permit (principal, action == Keel::Action::"update", resource)
when { principal.roles.contains("operator") && context.environments.contains("dev") };
`;
const WINDOW = {
  name: "dev-evenings",
  environments: ["dev"],
  timeZone: "UTC",
  days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
  start: "18:00",
  end: "20:00",
};
let rc: RolloutConsole;
let url: string;
const people = { operator: "", approver: "" };

const ok = (req: APIRequestContext, kind: "query" | "mutation", path: string, input?: unknown) =>
  trpcOk(url, req, kind, path, input);
const apiAs = (email: string, password: string) => signedInApi(url, email, password);
/** Builds web `v` on the console from a tree with a 1 MiB file, so the streams have a size worth showing. */
async function build(req: APIRequestContext, v: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keel-web-"));
  writeFileSync(join(dir, "VERSION"), `${v}\n`);
  writeFileSync(join(dir, "assets.bin"), Buffer.alloc(1 << 20, 7));
  const tree = execFileSync("tar", ["--numeric-owner", "-C", dir, "-cf", "-", "."], { maxBuffer: 64 << 20 });
  rmSync(dir, { recursive: true, force: true });
  const res = await req.post(`/api/releases/upload?mode=build&app=web&version=${v}&format=tar`, {
    data: tree,
    headers: { origin: url, "content-type": "application/octet-stream" },
    timeout: 300_000,
  });
  expect(res.status(), await res.text()).toBe(200);
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(600_000);
  for (const k of ["operator", "approver"] as const) people[k] = `${k}-${LAB}@keel.test`;
  rc = await startRolloutConsole({
    lab: LAB,
    hosts: 2,
    env: {
      KEEL_FOUNDERS: `${people.operator}:operator,${people.approver}:approver`,
      KEEL_FOUNDERS_PASSWORD: PASSWORD,
    },
  });
  url = rc.keel.url;
  const adm = await apiAs(rc.keel.adminEmail, rc.keel.adminPassword);
  const op = await apiAs(people.operator, PASSWORD);
  const ap = await apiAs(people.approver, PASSWORD);
  try {
    await ok(adm, "mutation", "keys.create", { name: "console" });
    const inventory = readFileSync(`/var/lib/keel-lab/${LAB}/inventory.json`, "utf8");
    type Outcome = { name: string; status: string; id?: string; message?: string };
    let imported = await ok(adm, "mutation", "hosts.import", {
      format: "lab",
      text: inventory,
      environment: "dev",
    });
    // A host whose signing-key install missed its SSH timeout (a loaded machine) is imported again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const unkeyed = (imported.outcomes as Outcome[]).filter((o) => o.status === "enrolled" && o.message);
      if (unkeyed.length === 0) break;
      for (const o of unkeyed) await ok(adm, "mutation", "hosts.remove", { id: o.id });
      imported = await ok(adm, "mutation", "hosts.import", {
        format: "lab",
        text: inventory,
        environment: "dev",
      });
    }
    expect(
      (imported.outcomes as Outcome[]).filter((o) => o.status === "enrolled" && o.message),
      "hosts without the console's signing key",
    ).toEqual([]);
    const ids = (
      (await ok(adm, "query", "hosts.list", { filter: { environments: ["dev"] }, pageSize: 50 })).rows as {
        id: string;
      }[]
    ).map((h) => h.id);
    expect(ids).toHaveLength(2);
    let refreshed = await ok(adm, "mutation", "hosts.refresh", { hostIds: ids });
    if (refreshed.ok < 2) refreshed = await ok(adm, "mutation", "hosts.refresh", { hostIds: ids });
    expect(refreshed.ok, JSON.stringify(refreshed.results)).toBe(2);

    // web 1.0 on both hosts while dev is still free.
    await build(adm, "1.0");
    const r = await ok(op, "mutation", "rollouts.create", {
      action: "update",
      app: "web",
      version: "1.0",
      targets: { environments: ["dev"] },
      waves: ["100%"],
      failureThreshold: 0,
      parallelism: 2,
    });
    await ok(op, "mutation", "rollouts.start", { rolloutId: r.id });
    await expect
      .poll(
        async () => {
          const x = await ok(op, "query", "rollouts.get", { rolloutId: r.id });
          return ["running", "approved", "starting", "succeeded"].includes(x.state)
            ? x.state
            : JSON.stringify(x.hosts);
        },
        { timeout: 240_000, intervals: [1000] },
      )
      .toBe("succeeded");
    await build(adm, "2.0");

    // From now on a dev update needs an approver, and dev has its window.
    const policy = await ok(adm, "query", "policy.get");
    const doc = policy.active.document as { cedar: string; windows: unknown[] };
    const proposed = await ok(adm, "mutation", "policy.propose", {
      document: { cedar: doc.cedar + DEV_RULE, windows: [...doc.windows, WINDOW] },
      comment: "dev needs an approver",
    });
    expect(
      (await ok(ap, "mutation", "policy.approve", { versionId: proposed.id, digest: proposed.digest })).state,
    ).toBe("active");
  } finally {
    await Promise.all([adm.dispose(), op.dispose(), ap.dispose()]);
  }
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  await rc?.stop();
});

test("[APPROVALS][CARD]: the approval card shows the policy's reason, the window and next start, and the plan per host; approving confirms it", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  const op = await apiAs(people.operator, PASSWORD);
  let rollout: { id: string; number: number };
  try {
    rollout = await ok(op, "mutation", "rollouts.create", {
      action: "update",
      app: "web",
      version: "2.0",
      targets: { environments: ["dev"] },
      waves: ["1", "100%"],
      failureThreshold: 0,
      parallelism: 2,
    });
    expect((await ok(op, "query", "rollouts.get", { rolloutId: rollout.id })).state).toBe(
      "awaiting_approval",
    );
  } finally {
    await op.dispose();
  }
  const page = await (await browser.newContext({ baseURL: url })).newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, people.approver, PASSWORD, "/approvals");
  const card = page.getByRole("region", { name: `Rollout ${rollout.number}`, exact: true });

  await test.step("why it needs approval, and the risk", async () => {
    await expect(card.getByRole("heading")).toContainText(
      `Rollout ${rollout.number}: update web 2.0 by ${people.operator}`,
    );
    await expect(card).toContainText(
      "Why approval: dev updates by an operator need an approver in this test",
    );
    await expect(card).toContainText(
      /Risk: 2 host\(s\) in dev · [\d.]+ (B|KiB|MiB) to send · waves 1 → 1 · needs 1 from approver/,
    );
  });

  await test.step("the window its hosts are bound by, and the next time it could start", async () => {
    const windows = card.getByTestId("approval-windows");
    await expect(windows).toContainText(
      "Windows: dev-evenings (mon,tue,wed,thu,fri,sat,sun 18:00–20:00 UTC).",
    );
    await expect(windows).toContainText("Could start:");
    const at = new Date((await windows.locator("time").getAttribute("datetime"))!);
    const minutes = at.getUTCHours() * 60 + at.getUTCMinutes();
    expect(minutes, at.toISOString()).toBeGreaterThanOrEqual(18 * 60);
    expect(minutes, at.toISOString()).toBeLessThan(20 * 60);
    expect(at.getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(at.getTime()).toBeGreaterThan(Date.now() - 15 * 60_000);
  });

  await test.step("the plan per host: wave, 1.0 → 2.0, the stream and its bytes", async () => {
    await card.getByText("Plan per host (2)").click();
    const rows = card.getByRole("table", { name: `Plan of rollout ${rollout.number}` }).locator("tbody tr");
    await expect(rows).toHaveCount(2);
    const seen = [];
    for (const row of await rows.all()) {
      const cells = await row.locator("td").allTextContents();
      const [name, env, wave, action, fromTo, stream, sent] = cells;
      expect(rc.inv.hosts.map((h) => h.name)).toContain(name);
      expect([env, action, fromTo]).toEqual(["dev", "update", "1.0 → 2.0"]);
      expect(stream).toMatch(/^(delta from 1\.0|full)$/);
      expect(sent).toMatch(/^[\d.]+ (B|KiB|MiB)$/);
      expect(sent).not.toBe("0 B");
      seen.push(wave);
    }
    expect(seen.sort()).toEqual(["1", "2"]);
  });

  await test.step("approving there says what it did; the card leaves and the rollout is approved", async () => {
    await card.getByRole("button", { name: "Approve" }).click();
    await expect(page.getByRole("status")).toHaveText(
      `You approved rollout ${rollout.number}; it is now approved.`,
    );
    await expect(card).toHaveCount(0);
    await page.goto(`/rollouts/${rollout.id}`);
    await expect(page.getByTestId("rollout-state")).toHaveText("approved");
  });
  expect(errors, "uncaught errors in the page").toEqual([]);
});
