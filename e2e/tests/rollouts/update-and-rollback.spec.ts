// Rollouts end to end in the browser: a console of its own whose data directory is on btrfs, five
// lab hosts in prod holding web 1.0, web 2.0 built by the console. An operator plans and creates the
// update from the Rollouts page, two approvers (other people) approve it, the operator starts it and
// watches it finish without reloading; the hosts themselves say 2.0 is current. Then the operator
// rolls those hosts back, one approver approves on the Approvals page, and 1.0 is current again on
// every host with no content sent. The policy's prod window is switched off through the policy API
// (proposed by the admin, approved by an approver) so the test does not depend on the time of day.
import { randomBytes } from "node:crypto";
import type { APIRequestContext, Browser, Page } from "@playwright/test";
import { signedInApi, trpcCall, trpcOk } from "@/e2e/fixtures/api";
import { linksOnHosts, startRolloutConsole, type RolloutConsole } from "@/e2e/fixtures/rollout-console";
import {
  appTree,
  buildWeb,
  editPolicy,
  enrollLab,
  expectRolloutSucceeds,
} from "@/e2e/fixtures/rollout-setup";
import { expect, signedInPage, test } from "@/e2e/fixtures/test";

const LAB = "e2ero" + randomBytes(2).toString("hex");
const PASSWORD = "rollout-e2e-password-1";
let rc: RolloutConsole;
let url: string;
const people = { operator: "", ap1: "", ap2: "" };

const call = (req: APIRequestContext, kind: "query" | "mutation", path: string, input?: unknown) =>
  trpcCall(url, req, kind, path, input);
const ok = (req: APIRequestContext, kind: "query" | "mutation", path: string, input?: unknown) =>
  trpcOk(url, req, kind, path, input);
const apiAs = (email: string, password: string) => signedInApi(url, email, password);
const pageAs = (browser: Browser, email: string, errors: string[]): Promise<Page> =>
  signedInPage(browser, url, { email, password: PASSWORD }, errors, "/rollouts");
/** The tree of `web` at version v, as a tar (what `keel release build DIR` uploads). */
const webTree = (v: string) =>
  appTree(v, { "index.html": `<h1>web ${v}</h1>\n`, "assets.bin": Buffer.alloc(1 << 20, 3) });
/** What `apps/web/current` points at on each of the five hosts, read on the hosts. */
async function currentOnHosts(): Promise<(string | null)[]> {
  const links = await linksOnHosts(LAB, "web");
  return rc.inv.hosts.map((h) => links[h.name]?.current ?? null);
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(600_000);
  // The operator and the approvers are founders, named where the console is installed: accounts the
  // admin made through the API would rest on the admin alone, and their approvals would not count
  // for the admin's policy edit (docs/decisions/0015-two-person-rule.md).
  for (const k of ["operator", "ap1", "ap2"] as const) people[k] = `${k}-${LAB}@keel.test`;
  const founders = `${people.operator}:operator+approver,${people.ap1}:approver,${people.ap2}:approver`;
  rc = await startRolloutConsole({
    lab: LAB,
    hosts: 5,
    env: { KEEL_FOUNDERS: founders, KEEL_FOUNDERS_PASSWORD: PASSWORD },
  });
  url = rc.keel.url;
  const adm = await apiAs(rc.keel.adminEmail, rc.keel.adminPassword);
  try {
    // The console's signing key first (hosts enrolled afterwards trust it), then the five hosts.
    await enrollLab(rc, adm, "prod");
    const ap1 = await apiAs(people.ap1, PASSWORD);
    const ap2 = await apiAs(people.ap2, PASSWORD);
    const op = await apiAs(people.operator, PASSWORD);
    try {
      // The default policy without its prod window: proposed by the admin, approved by an approver.
      await editPolicy(url, adm, ap1, (doc) => ({ ...doc, windows: [] }), "e2e runs at any hour");

      // web 1.0 built by the console and installed on all five hosts (through the same API).
      await buildWeb(rc, adm, "1.0", webTree("1.0"));
      const r = await ok(op, "mutation", "rollouts.create", {
        action: "update",
        app: "web",
        version: "1.0",
        targets: { environments: ["prod"] },
        waves: ["1", "100%"],
        failureThreshold: 0,
        parallelism: 5,
      });
      const got = await ok(op, "query", "rollouts.get", { rolloutId: r.id });
      for (const a of [ap1, ap2])
        await ok(a, "mutation", "rollouts.approve", { rolloutId: r.id, digest: got.planDigest });
      await ok(op, "mutation", "rollouts.start", { rolloutId: r.id });
      await expectRolloutSucceeds(url, op, r.id);
      expect(await currentOnHosts()).toEqual(Array(5).fill("1.0"));

      await buildWeb(rc, adm, "2.0", webTree("2.0"));
    } finally {
      await Promise.all([ap1.dispose(), ap2.dispose(), op.dispose()]);
    }
  } finally {
    await adm.dispose();
  }
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  await rc?.stop();
});

test("[ROLLOUTS][APPROVE]: operator rolls an update to 5 lab hosts, approver approves, then fleet rollback", async ({
  browser,
}) => {
  test.setTimeout(420_000);
  const errors: string[] = [];
  const op = await pageAs(browser, people.operator, errors);
  const ap1 = await pageAs(browser, people.ap1, errors);
  const ap2 = await pageAs(browser, people.ap2, errors);
  let updateUrl = "";

  await test.step("the operator previews and creates the update to 2.0 in waves 1, 50%, 100%", async () => {
    const form = op.getByRole("region", { name: "New rollout" });
    await form.getByLabel("App").fill("web");
    await form.getByLabel("Version").fill("2.0");
    await form.getByLabel("Environments").fill("prod");
    await form.getByLabel("Waves").fill("1,50%,100%");
    await form.getByLabel("Hosts at once").fill("5");
    await form.getByRole("button", { name: "Preview plan" }).click();
    const preview = op.getByLabel("Plan preview");
    await expect(preview).toContainText("needs 2 approvals from approver", { timeout: 30_000 });
    await form.getByRole("button", { name: "Create rollout" }).click();
    await expect(op).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    updateUrl = new URL(op.url()).pathname;
    await expect(op.getByTestId("rollout-state")).toHaveText("awaiting approval");
    await expect(op.locator("tr[data-host]")).toHaveCount(5);
  });

  await test.step("the operator cannot approve their own rollout", async () => {
    await expect(op.getByRole("button", { name: "Approve this plan" })).toHaveCount(0);
    const id = updateUrl.split("/").pop()!;
    const got = await call(op.context().request, "query", "rollouts.get", { rolloutId: id });
    const self = await call(op.context().request, "mutation", "rollouts.approve", {
      rolloutId: id,
      digest: got.data.planDigest,
    });
    expect(self.status).toBe(403);
    expect(self.body?.error?.json.message).toMatch(/someone else must approve/);
    await op.goto("/approvals");
    await expect(op.getByText("your request: someone else must approve it")).toBeVisible();
    await op.goto(updateUrl);
  });

  await test.step("two approvers approve the plan", async () => {
    await ap1.goto(updateUrl);
    await expect(ap1.getByRole("region", { name: "Summary" })).toContainText(
      "Approvals for this plan: 0 of 2",
    );
    await ap1.getByRole("button", { name: "Approve this plan" }).click();
    await expect(ap1.getByRole("region", { name: "Summary" })).toContainText(
      "Approvals for this plan: 1 of 2",
    );
    await expect(ap1.getByTestId("rollout-state")).toHaveText("awaiting approval");
    await ap2.goto(updateUrl);
    await ap2.getByRole("button", { name: "Approve this plan" }).click();
    await expect(ap2.getByTestId("rollout-state")).toHaveText("approved");
    // The operator's page follows without a reload.
    await expect(op.getByTestId("rollout-state")).toHaveText("approved");
  });

  await test.step("the operator starts it and watches it succeed without reloading", async () => {
    const seen = new Set<string>();
    await op.getByRole("button", { name: "Start", exact: true }).click();
    await expect
      .poll(
        async () => {
          const s = (await op.getByTestId("rollout-state").textContent()) ?? "";
          seen.add(s);
          for (const st of await op.locator("tr[data-host] td:nth-child(4)").allTextContents())
            seen.add(`host:${st}`);
          return s;
        },
        { timeout: 240_000, intervals: [250] },
      )
      .toBe("succeeded");
    expect([...seen]).toContain("running");
    await expect(op.locator("tr[data-host]").filter({ hasText: "succeeded" })).toHaveCount(5);
    expect(await currentOnHosts()).toEqual(Array(5).fill("2.0"));
  });

  await test.step("the operator rolls these hosts back, one approver approves on the Approvals page", async () => {
    await op.getByRole("button", { name: "Roll back these hosts" }).click();
    await expect(op).toHaveURL(
      (u) => /\/rollouts\/[0-9a-f-]{36}$/.test(u.pathname) && u.pathname !== updateUrl,
      { timeout: 30_000 },
    );
    await expect(op.getByTestId("rollout-state")).toHaveText("awaiting approval");
    await expect(op.getByRole("heading", { name: /roll back web/ })).toBeVisible();
    await ap1.goto("/approvals");
    const number = (await op.getByRole("heading", { name: /roll back web/ }).textContent())!.match(
      /Rollout (\d+)/,
    )![1];
    const card = ap1.getByRole("region", { name: `Rollout ${number}` });
    await expect(card).toContainText("needs 1 from approver");
    await card.getByRole("button", { name: "Approve" }).click();
    await expect(card).toHaveCount(0);
    await expect(op.getByTestId("rollout-state")).toHaveText("approved");
    await op.getByRole("button", { name: "Start", exact: true }).click();
    await expect(op.getByTestId("rollout-state")).toHaveText("succeeded", { timeout: 180_000 });
    const rows = op.locator("tr[data-host]");
    await expect(rows).toHaveCount(5);
    // No content travels for a rollback: every host shows 0 bytes sent.
    for (const sent of await rows.locator("td:nth-child(6)").allTextContents()) expect(sent).toBe("0 B");
    expect(await currentOnHosts()).toEqual(Array(5).fill("1.0"));
  });

  expect(errors, "uncaught errors in the pages").toEqual([]);
});

// The build form's health-check fields (this spec's console is the one whose data directory is on btrfs).
test("[RELEASES][BUILD]: the operator builds a release from a tar in the browser with a command health check, and its signed manifest carries it", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  const page = await pageAs(browser, people.operator, errors);
  await page.goto("/releases");
  const panel = page.getByRole("region", { name: "Add a release" });
  await panel.getByRole("button", { name: "Build from tree" }).click();
  const form = page.getByRole("form", { name: "Build release" });
  await form.getByLabel("App", { exact: true }).fill("site");
  await form.getByLabel("Version", { exact: true }).fill("1.0");
  await form
    .getByLabel("Tree (.tar or .tar.zst)")
    .setInputFiles({ name: "site.tar", mimeType: "application/x-tar", buffer: webTree("1.0") });
  await form.getByRole("combobox", { name: /^Health check \(/ }).selectOption("exec");
  await form.getByLabel(/^Command/).fill("/usr/bin/test\n-s\n/var/lib/keel/apps/site/current/VERSION");
  await form.getByLabel("Timeout (seconds)").fill("5");
  await form.getByRole("button", { name: "Build" }).click();
  await expect(panel.getByRole("status")).toContainText("Built site 1.0", { timeout: 60_000 });
  await expect(panel.getByRole("status")).toContainText("health check (exec) recorded in the manifest");

  await page.getByTestId("release-row-site-1.0").getByRole("link", { name: "1.0" }).click();
  const manifest = page.getByRole("region", { name: "Manifest" });
  await expect(manifest).toContainText('"healthCheck"');
  await expect(manifest).toContainText('"/var/lib/keel/apps/site/current/VERSION"');
  await expect(manifest).toContainText('"timeoutMs": 5000');
  expect(errors, "uncaught errors in the pages").toEqual([]);
});
