// A release whose health check runs as root, in the browser: a console of its own (btrfs data
// directory), two lab hosts in dev. The policy says a root health check needs an approver
// (context.runsAsRoot). web 1.0 is built with a check signed runAs "root" that only root passes
// (`test -w /etc/keel`). The release page says "runs as root"; the operator's plan preview, the
// rollout page and the approver's card say "Health check runs as root on 2 hosts"; once approved,
// the rollout succeeds on both hosts — the check really ran as root there.
import { randomBytes } from "node:crypto";
import { type Browser, type Page } from "@playwright/test";
import { linksOnHosts, startRolloutConsole, type RolloutConsole } from "@/e2e/fixtures/rollout-console";
import { appTree, buildWeb, editPolicy, enrollLab } from "@/e2e/fixtures/rollout-setup";
import { expect, signedInPage, test } from "@/e2e/fixtures/test";
import { signedInApi } from "@/e2e/fixtures/api";
import { ROOT_CHECKS_NEED_APPROVAL } from "@/server/services/policy/test-fixtures";

const LAB = "e2erc" + randomBytes(2).toString("hex");
const PASSWORD = "root-check-e2e-password-1";
let rc: RolloutConsole;
let url: string;
const people = { operator: "", approver: "" };
const apiAs = (email: string, password: string) => signedInApi(url, email, password);
const pageAs = (browser: Browser, email: string, errors: string[]): Promise<Page> =>
  signedInPage(browser, url, { email, password: PASSWORD }, errors, "/rollouts");

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(600_000);
  // Founders (named where the console is installed), so that the approver's approval of the
  // admin's policy edit counts (docs/decisions/0015-two-person-rule.md).
  for (const k of ["operator", "approver"] as const) people[k] = `${k}-${LAB}@keel.test`;
  const founders = `${people.operator}:operator,${people.approver}:approver`;
  rc = await startRolloutConsole({
    lab: LAB,
    hosts: 2,
    env: { KEEL_FOUNDERS: founders, KEEL_FOUNDERS_PASSWORD: PASSWORD },
  });
  url = rc.keel.url;
  const adm = await apiAs(rc.keel.adminEmail, rc.keel.adminPassword);
  try {
    await enrollLab(rc, adm, "dev");
    const ap = await apiAs(people.approver, PASSWORD);
    try {
      await editPolicy(
        url,
        adm,
        ap,
        (doc) => ({ ...doc, cedar: doc.cedar + ROOT_CHECKS_NEED_APPROVAL }),
        "root checks need an approver",
      );
    } finally {
      await ap.dispose();
    }
    // web 1.0, its check signed as root: only root may write to /etc/keel.
    const check = { type: "exec", argv: ["/usr/bin/test", "-w", "/etc/keel"], runAs: "root" };
    await buildWeb(rc, adm, "1.0", appTree("1.0"), check);
  } finally {
    await adm.dispose();
  }
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  await rc?.stop();
});

test("[ROLLOUTS][ROOT]: a root health check is shown on the release, the plan and the approval card, and runs as root", async ({
  browser,
}) => {
  test.setTimeout(420_000);
  const errors: string[] = [];
  const op = await pageAs(browser, people.operator, errors);
  const ap = await pageAs(browser, people.approver, errors);
  let rolloutUrl = "";

  await test.step("the release page says its health check runs as root", async () => {
    await op.goto("/releases/web/1.0");
    const check = op.getByLabel("Health check");
    await expect(check).toContainText("runs as root");
    await expect(check).toContainText('runs ["/usr/bin/test","-w","/etc/keel"] AS ROOT');
  });

  await test.step("the operator's plan says it before the rollout exists, and the rollout page after", async () => {
    await op.goto("/rollouts");
    const form = op.getByRole("region", { name: "New rollout" });
    await form.getByLabel("App").fill("web");
    await form.getByLabel("Version").fill("1.0");
    await form.getByLabel("Environments").fill("dev");
    await form.getByRole("button", { name: "Preview plan" }).click();
    const preview = op.getByLabel("Plan preview");
    await expect(preview.getByRole("alert", { name: "Runs as root" })).toContainText(
      "Health check runs as root on 2 hosts",
      { timeout: 30_000 },
    );
    await expect(preview).toContainText("a health check that runs as root needs an approver");
    await form.getByRole("button", { name: "Create rollout" }).click();
    await expect(op).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    rolloutUrl = new URL(op.url()).pathname;
    await expect(op.getByTestId("rollout-state")).toHaveText("awaiting approval");
    await expect(op.getByRole("alert", { name: "Runs as root" }).first()).toContainText(
      "Health check runs as root on 2 hosts",
    );
  });

  await test.step("the approver's card says it, and the approver approves there", async () => {
    await ap.goto("/approvals");
    const card = ap.getByRole("region", { name: /^Rollout \d+$/ });
    await expect(card.getByRole("alert", { name: "Runs as root" })).toContainText(
      "Health check runs as root on 2 hosts",
    );
    await card.getByRole("button", { name: "Approve" }).click();
    await expect(card).toHaveCount(0);
  });

  await test.step("it runs: the root check passes on both hosts", async () => {
    await op.goto(rolloutUrl);
    await expect(op.getByTestId("rollout-state")).toHaveText("approved");
    await op.getByRole("button", { name: "Start", exact: true }).click();
    await expect(op.getByTestId("rollout-state")).toHaveText("succeeded", { timeout: 240_000 });
    const links = await linksOnHosts(LAB, "web");
    expect(rc.inv.hosts.map((h) => links[h.name]?.current ?? null)).toEqual(["1.0", "1.0"]);
  });
  expect(errors).toEqual([]);
});
