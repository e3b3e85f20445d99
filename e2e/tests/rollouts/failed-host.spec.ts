// A rollout where one host fails, in the browser: a console of its own (btrfs data directory), two
// lab hosts in dev holding web 1.0. web 2.0 is built with a signed health check that fails where a
// marker file exists (`test ! -e /etc/keel/lab-unhealthy`), and only the second host has it. The
// operator rolls 2.0 out tolerating one failure: the rollout ends "finished with failures" in red
// (not a green "succeeded"), the failed host is named with its error, the other host succeeded,
// the rollout list says the same, and the failed host's disk still has 1.0 current.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { linksOnHosts, startRolloutConsole, type RolloutConsole } from "@/e2e/fixtures/rollout-console";
import { appTree, buildWeb, enrollLab, installWeb } from "@/e2e/fixtures/rollout-setup";
import { expect, signIn, test } from "@/e2e/fixtures/test";
import { signedInApi } from "@/e2e/fixtures/api";

const LAB = "e2erf" + randomBytes(2).toString("hex");
const PASSWORD = "failed-host-e2e-password-1";
const MARKER = "/etc/keel/lab-unhealthy";
// The danger colour of the light theme (app/globals.css: --danger).
const RED = "rgb(185, 28, 28)";
let rc: RolloutConsole;
let url: string;
let operator = "";

const apiAs = (email: string, password: string) => signedInApi(url, email, password);
/** Runs a command on a lab host through the lab CLI (infra/lab is ESM; specs load as CommonJS). */
function onHost(host: string, ...argv: string[]): void {
  execFileSync("npx", ["tsx", "infra/lab/main.ts", "exec", host, "--lab", LAB, "--", ...argv], {
    cwd: resolve(__dirname, "../../.."),
    timeout: 120_000,
  });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(600_000);
  operator = `operator-${LAB}@keel.test`;
  rc = await startRolloutConsole({
    lab: LAB,
    hosts: 2,
    env: { KEEL_FOUNDERS: `${operator}:operator`, KEEL_FOUNDERS_PASSWORD: PASSWORD },
  });
  url = rc.keel.url;
  const adm = await apiAs(rc.keel.adminEmail, rc.keel.adminPassword);
  const op = await apiAs(operator, PASSWORD);
  try {
    await enrollLab(rc, adm, "dev");
    // web 1.0 on both hosts (dev needs no approval), then 2.0 whose check fails where the marker is.
    await buildWeb(rc, adm, "1.0", appTree("1.0"));
    await installWeb(url, op, "1.0", "dev", 2);
    await buildWeb(rc, adm, "2.0", appTree("2.0"), {
      type: "exec",
      argv: ["/usr/bin/test", "!", "-e", MARKER],
      timeoutMs: 20_000,
    });
  } finally {
    await Promise.all([adm.dispose(), op.dispose()]);
  }
  // Only the second host is unhealthy.
  onHost(rc.inv.hosts[1]!.name, "touch", MARKER);
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  await rc?.stop();
});

test("[ROLLOUTS][FAILED-HOST]: a rollout where one host fails ends 'finished with failures' in red, names the host and its error, and the host keeps 1.0", async ({
  browser,
}) => {
  test.setTimeout(420_000);
  const [good, sick] = rc.inv.hosts.map((h) => h.name) as [string, string];
  const ctx = await browser.newContext({ baseURL: url });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, operator, PASSWORD, "/rollouts");
  let number = "";

  await test.step("the operator plans web 2.0 for dev, tolerating one failure, and starts it", async () => {
    const form = page.getByRole("region", { name: "New rollout" });
    await form.getByLabel("App").fill("web");
    await form.getByLabel("Version").fill("2.0");
    await form.getByLabel("Environments").fill("dev");
    await form.getByLabel("Waves").fill("100%");
    await form.getByLabel("Failures tolerated per wave").fill("1");
    await form.getByLabel("Hosts at once").fill("2");
    await form.getByRole("button", { name: "Preview plan" }).click();
    await expect(page.getByLabel("Plan preview")).toContainText("allowed without approval", {
      timeout: 30_000,
    });
    await form.getByRole("button", { name: "Create rollout" }).click();
    await expect(page).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    number = (await page
      .getByRole("heading", { name: /^Rollout \d+: update web 2\.0$/ })
      .textContent())!.match(/Rollout (\d+)/)![1]!;
    await expect(page.getByTestId("rollout-state")).toHaveText("approved");
    await page.getByRole("button", { name: "Start", exact: true }).click();
  });

  await test.step("it ends 'finished with failures' in red, not a green 'succeeded'", async () => {
    const state = page.getByTestId("rollout-state");
    await expect(state).toHaveText("finished with failures", { timeout: 240_000 });
    await expect(state).toHaveCSS("color", RED);
    const counts = page.getByRole("region", { name: "Hosts" }).getByRole("heading");
    await expect(counts).toContainText("1 succeeded");
    await expect(counts).toContainText("1 reverted");
  });

  await test.step("the failed host is named with its error; the other host succeeded", async () => {
    const bad = page.locator(`tr[data-host="${sick}"]`);
    await expect(bad.locator("td").nth(3)).toHaveText("reverted");
    await expect(bad.locator("td").nth(3).locator("span")).toHaveCSS("color", RED);
    await expect(bad.locator("td").nth(6)).toContainText("health check failed");
    await expect(bad.locator("td").nth(6)).toContainText("back on 1.0");
    const fine = page.locator(`tr[data-host="${good}"]`);
    await expect(fine.locator("td").nth(3)).toHaveText("succeeded");
    await expect(fine.locator("td").nth(6)).toHaveText("");
  });

  await test.step("the rollout list shows the same state, in red", async () => {
    await page.goto("/rollouts");
    const row = page.locator("tr", { has: page.getByRole("link", { name: number, exact: true }) });
    await expect(row).toContainText("update web 2.0");
    const badge = row.getByText("finished with failures", { exact: true });
    await expect(badge).toBeVisible();
    await expect(badge).toHaveCSS("color", RED);
    await expect(row).toContainText("1 succeeded");
    await expect(row).toContainText("1 reverted");
  });

  await test.step("the hosts' disks: the failed host still runs 1.0, the other 2.0", async () => {
    const links = await linksOnHosts(LAB, "web");
    expect(links[sick]?.current).toBe("1.0");
    expect(links[good]?.current).toBe("2.0");
  });
  await ctx.close();
  expect(errors, "uncaught errors in the page").toEqual([]);
});
