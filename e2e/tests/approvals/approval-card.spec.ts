// What an approver sees on the approval card, in the browser: a console of its own (btrfs data
// directory), two lab hosts in dev holding web 1.0 (built and installed by the console). The policy
// is then changed (proposed by the admin, approved by an approver) so that an operator's dev update
// needs one approver, and dev gets a maintenance window, 18:00–20:00 UTC. The operator asks for
// web 2.0 in two waves; the approver's card shows why (the policy's reason), the window and the
// next time it could start, the risk, and per host: wave, 1.0 → 2.0, the stream and its bytes.
// Approving there confirms what it did, and the rollout is approved.
import { randomBytes } from "node:crypto";
import { type APIRequestContext } from "@playwright/test";
import { startRolloutConsole, type RolloutConsole } from "@/e2e/fixtures/rollout-console";
import { appTree, buildWeb, editPolicy, enrollLab, installWeb } from "@/e2e/fixtures/rollout-setup";
import { expect, signedInPage, test } from "@/e2e/fixtures/test";
import { signedInApi, trpcOk } from "@/e2e/fixtures/api";

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
/** The tree of web `v` with a 1 MiB file, so the streams have a size worth showing. */
const webTree = (v: string) => appTree(v, { "assets.bin": Buffer.alloc(1 << 20, 7) });

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
    await enrollLab(rc, adm, "dev");
    // web 1.0 on both hosts while dev is still free.
    await buildWeb(rc, adm, "1.0", webTree("1.0"));
    await installWeb(url, op, "1.0", "dev", 2);
    await buildWeb(rc, adm, "2.0", webTree("2.0"));

    // From now on a dev update needs an approver, and dev has its window.
    await editPolicy(
      url,
      adm,
      ap,
      (doc) => ({ cedar: doc.cedar + DEV_RULE, windows: [...doc.windows, WINDOW] }),
      "dev needs an approver",
    );
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
  const page = await signedInPage(
    browser,
    url,
    { email: people.approver, password: PASSWORD },
    errors,
    "/approvals",
  );
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
