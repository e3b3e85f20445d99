// A release whose health check runs as root, in the browser: a console of its own (btrfs data
// directory), two lab hosts in dev. The policy says a root health check needs an approver
// (context.runsAsRoot). web 1.0 is built with a check signed runAs "root" that only root passes
// (`test -w /etc/keel`). The release page says "runs as root"; the operator's plan preview, the
// rollout page and the approver's card say "Health check runs as root on 2 hosts"; once approved,
// the rollout succeeds on both hosts — the check really ran as root there.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { linksOnHosts, startRolloutConsole, type RolloutConsole } from "../../fixtures/rollout-console";
import { expect, signIn, test } from "../../fixtures/test";
import { signedInApi, trpcOk } from "../../fixtures/api";

const LAB = "e2erc" + randomBytes(2).toString("hex");
const PASSWORD = "root-check-e2e-password-1";
let rc: RolloutConsole;
let url: string;
const people = { operator: "", approver: "" };
const ROOT_RULE = `
@id("root-checks-need-approval")
@reason("a health check that runs as root needs an approver")
@approvals("1")
@approver_role("approver")
permit (principal, action in [Keel::Action::"install", Keel::Action::"update"], resource)
when { principal.roles.contains("operator") && context.runsAsRoot };
`;

const ok = (req: APIRequestContext, kind: "query" | "mutation", path: string, input?: unknown) =>
  trpcOk(url, req, kind, path, input);
const apiAs = (email: string, password: string) => signedInApi(url, email, password);
async function pageAs(browser: Browser, email: string, errors: string[]): Promise<Page> {
  const page = await (await browser.newContext({ baseURL: url })).newPage();
  page.on("pageerror", (e) => errors.push(`${email}: ${e.message}`));
  await signIn(page, email, PASSWORD, "/rollouts");
  return page;
}

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
    await ok(adm, "mutation", "keys.create", { name: "console" });
    const inventory = readFileSync(`/var/lib/keel-lab/${LAB}/inventory.json`, "utf8");
    const imported = await ok(adm, "mutation", "hosts.import", {
      format: "lab",
      text: inventory,
      environment: "dev",
    });
    const unkeyed = (imported.outcomes as { status: string; message?: string }[]).filter(
      (o) => o.status === "enrolled" && o.message,
    );
    expect(imported.enrolled, JSON.stringify(imported.outcomes)).toBe(2);
    expect(unkeyed, "hosts without the console's signing key").toEqual([]);
    const refreshed = await ok(adm, "mutation", "hosts.refresh", {
      hostIds: (imported.outcomes as { id: string }[]).map((o) => o.id),
    });
    expect(refreshed.ok, JSON.stringify(refreshed.results)).toBe(2);

    const policy = await ok(adm, "query", "policy.get");
    const doc = policy.active.document as { cedar: string; windows: unknown[] };
    const proposed = await ok(adm, "mutation", "policy.propose", {
      document: { ...doc, cedar: doc.cedar + ROOT_RULE },
      comment: "root checks need an approver",
    });
    const ap = await apiAs(people.approver, PASSWORD);
    try {
      expect(
        (await ok(ap, "mutation", "policy.approve", { versionId: proposed.id, digest: proposed.digest }))
          .state,
      ).toBe("active");
    } finally {
      await ap.dispose();
    }

    // web 1.0, its check signed as root: only root may write to /etc/keel.
    const dir = mkdtempSync(join(tmpdir(), "keel-web-"));
    writeFileSync(join(dir, "VERSION"), "1.0\n");
    const tree = execFileSync("tar", ["--numeric-owner", "-C", dir, "-cf", "-", "."]);
    rmSync(dir, { recursive: true, force: true });
    const check = { type: "exec", argv: ["/usr/bin/test", "-w", "/etc/keel"], runAs: "root" };
    const q = new URLSearchParams({
      mode: "build",
      app: "web",
      version: "1.0",
      format: "tar",
      healthCheck: JSON.stringify(check),
    });
    const res = await adm.post(`/api/releases/upload?${q}`, {
      data: tree,
      headers: { origin: url, "content-type": "application/octet-stream" },
      timeout: 300_000,
    });
    expect(res.status(), await res.text()).toBe(200);
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
