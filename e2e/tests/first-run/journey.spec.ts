// The first-run journey as a new IT admin makes it, from the README and the pages only: `npm start`
// on a fresh data directory that is not btrfs (the console provisions its own build store and its
// own release-signing key), `npm run lab -- up 3` (hosts that trust the console's key), Hosts →
// Import with the lab's inventory, refresh, a folder built into a release in the browser, the
// prod window opened all day on the Policy page (approved by an approver, so the run does not
// depend on the hour), a rollout planned by the admin and approved by two other people, started by
// "Start at next window" through the worker, and the hosts' versions on the Apps page and on the
// hosts' own disks. No file is written by hand; the only settings are the README's (KEEL_DATA_DIR
// for where the data goes, KEEL_FOUNDERS for the approvers, whose passwords the console prints once).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "@playwright/test";
import { REPO, startConsole, type RunningConsole } from "@/e2e/fixtures/console";
import { expect, signIn, test } from "@/e2e/fixtures/test";

const LAB = "fr" + randomBytes(2).toString("hex");
const AP1 = `ap1-${LAB}@keel.test`;
const AP2 = `ap2-${LAB}@keel.test`;
let keel: RunningConsole | undefined;
let labUp = false;
let work = "";

/** `npm run lab -- ARGS` from the checkout, as the README says, for this console's data dir. */
async function lab(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "npm",
    ["run", "--silent", "lab", "--", args[0]!, "--lab", LAB, ...args.slice(1)],
    {
      cwd: REPO,
      env: { ...process.env, KEEL_DATA_DIR: keel!.dataDir },
      maxBuffer: 16 << 20,
      timeout: 600_000,
    },
  );
  return stdout;
}

/** The password the console printed once for a founder. */
function printedPassword(email: string): string {
  const m = new RegExp(
    `founder ${email.replace(/[.@]/g, "\\$&")} created; password \\(shown once\\): (\\S+)`,
  ).exec(readFileSync(keel!.logFile, "utf8"));
  if (!m) throw new Error(`the console printed no password for ${email}`);
  return m[1]!;
}

async function pageAs(
  browser: Browser,
  email: string,
  password: string,
  errors: string[],
  next = "/settings",
): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: keel!.url });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push(`${email}: ${e.message}`));
  await signIn(page, email, password, next);
  return page;
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(900_000);
  work = mkdtempSync(join(tmpdir(), "keel-first-run-"));
  // A fresh data dir on the machine's ordinary file system; the build store size is the README's default.
  keel = await startConsole({
    env: { KEEL_FOUNDERS: `${AP1}:approver,${AP2}:approver`, KEEL_BUILD_STORE_GIB: "20" },
  });
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  if (labUp)
    await lab(["down"]).catch((e: unknown) =>
      console.error(`[e2e] lab down ${LAB}: ${(e as Error).message}`),
    );
  await keel?.stop().catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== "EROFS")
      console.error(`[e2e] console stop: ${(e as Error).message}`);
  });
  if (work) rmSync(work, { recursive: true, force: true });
});

test("[FIRST-RUN]: from npm start to three lab hosts running a release built from a folder, approved by two people, started at the window", async ({
  browser,
}) => {
  test.setTimeout(900_000);
  const errors: string[] = [];
  const admin = await pageAs(browser, keel!.adminEmail, keel!.adminPassword, errors);
  let rolloutUrl = "";

  await test.step("the console shows its SSH key and has a build store and a signing key of its own", async () => {
    await expect(admin.getByTestId("console-ssh-key")).toContainText(/^ssh-ed25519 /);
    const log = readFileSync(keel!.logFile, "utf8");
    expect(log).toMatch(/made the console's release-signing key/);
  });

  let inventory = "";
  await test.step("npm run lab -- up 3: hosts that trust the console's key", async () => {
    labUp = true;
    await lab(["up", "3"]);
    const out = await lab(["inventory"]);
    inventory = out.slice(out.indexOf("{"));
    expect(JSON.parse(inventory).hosts).toHaveLength(3);
  });

  await test.step("Hosts → Import: the lab's inventory into prod, then refresh", async () => {
    await admin.goto("/hosts/import");
    const form = admin.getByRole("form", { name: "Import hosts" });
    await form.getByLabel("Environment for all").fill("prod");
    await form.getByLabel("File content").fill(inventory);
    await form.getByRole("button", { name: "Import" }).click();
    const result = admin.getByRole("table", { name: "Import result" });
    await expect(result.getByText("enrolled", { exact: true })).toHaveCount(3, { timeout: 120_000 });
    await admin.goto("/hosts");
    await admin.getByRole("button", { name: "Refresh all matching (3)" }).click();
    await expect(admin.getByText("reachable", { exact: true })).toHaveCount(3, { timeout: 180_000 });
  });

  await test.step("Policy: prod's window opened all day, proposed by the admin, approved by an approver", async () => {
    await admin.goto("/policy");
    const windows = [
      {
        name: "prod-all-day",
        environments: ["prod"],
        timeZone: "UTC",
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        start: "00:00",
        end: "00:00",
      },
    ];
    await admin
      .getByRole("textbox", { name: "Maintenance windows (JSON)" })
      .fill(JSON.stringify(windows, null, 2));
    await admin.getByPlaceholder("Why this change").fill("first run: prod may change at any hour");
    await expect(admin.getByText("The edited policy is valid.")).toBeVisible();
    await admin.getByRole("button", { name: "Propose this version" }).click();
    const note = admin.getByRole("status").filter({ hasText: "is proposed: it waits for approval" });
    await expect(note).toBeVisible();
    const version = /Version (\d+) is proposed/.exec((await note.textContent())!)![1]!;
    const ap = await pageAs(browser, AP1, printedPassword(AP1), errors, `/policy/versions/${version}`);
    await ap.getByRole("button", { name: `Approve version ${version}` }).click();
    await expect(ap.getByTestId("policy-version-state")).toHaveText("active");
    await ap.context().close();
  });

  await test.step("Releases: web 1.0 built from a folder, with the upload's progress", async () => {
    const dir = join(work, "web");
    mkdirSync(join(dir, "bin"), { recursive: true });
    writeFileSync(join(dir, "VERSION"), "1.0\n");
    writeFileSync(join(dir, "index.html"), "<h1>web 1.0</h1>\n");
    writeFileSync(join(dir, "bin", "serve"), "#!/bin/sh\nexec true\n");
    await admin.goto("/releases");
    const panel = admin.getByRole("region", { name: "Add a release" });
    await panel.getByRole("button", { name: "Build from tree" }).click();
    const form = admin.getByRole("form", { name: "Build release" });
    await form.getByLabel("App", { exact: true }).fill("web");
    await form.getByLabel("Version", { exact: true }).fill("1.0");
    await form.getByLabel("Tree folder").setInputFiles(dir);
    await form.getByRole("button", { name: "Build" }).click();
    await expect(panel.getByRole("status")).toContainText("Built web 1.0", { timeout: 120_000 });
    await expect(panel.getByLabel("Upload progress")).toContainText("100%");
  });

  await test.step("Rollouts: the admin plans web 1.0 for prod in waves 1, 100%", async () => {
    await admin.goto("/rollouts");
    const form = admin.getByRole("region", { name: "New rollout" });
    await form.getByLabel("App").fill("web");
    await form.getByLabel("Version").fill("1.0");
    await form.getByLabel("Environments").fill("prod");
    await form.getByLabel("Waves").fill("1,100%");
    await form.getByLabel("Hosts at once").fill("3");
    await form.getByRole("button", { name: "Preview plan" }).click();
    await expect(admin.getByLabel("Plan preview")).toContainText("needs 2 approvals from approver", {
      timeout: 60_000,
    });
    await form.getByRole("button", { name: "Create rollout" }).click();
    await expect(admin).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    rolloutUrl = new URL(admin.url()).pathname;
    await expect(admin.getByTestId("rollout-state")).toHaveText("awaiting approval");
    await expect(admin.locator("tr[data-host]")).toHaveCount(3);
  });

  await test.step("two other people approve the plan", async () => {
    for (const who of [AP1, AP2]) {
      const ap = await pageAs(browser, who, printedPassword(who), errors, rolloutUrl);
      await ap.getByRole("button", { name: "Approve this plan" }).click();
      await expect(ap.getByRole("region", { name: "Summary" })).toContainText(
        who === AP1 ? "Approvals for this plan: 1 of 2" : "Approvals for this plan: 2 of 2",
      );
      await ap.context().close();
    }
    await expect(admin.getByTestId("rollout-state")).toHaveText("approved");
  });

  await test.step("the admin schedules the start at the next window; the worker starts it and it succeeds", async () => {
    await admin.getByRole("button", { name: "Start at next window" }).click();
    await expect
      .poll(async () => (await admin.getByTestId("rollout-state").textContent()) ?? "", {
        timeout: 300_000,
        intervals: [500],
      })
      .toBe("succeeded");
    await expect(admin.locator("tr[data-host]").filter({ hasText: "succeeded" })).toHaveCount(3);
  });

  await test.step("the hosts run web 1.0: on the Apps page and on their own disks", async () => {
    await admin.goto("/apps");
    await expect(
      admin.getByRole("region", { name: "Apps" }).getByRole("button", { name: /web\s*3 hosts/ }),
    ).toBeVisible();
    const inv = JSON.parse(inventory) as { hosts: { name: string }[] };
    for (const h of inv.hosts) {
      const out = await lab(["exec", h.name, "--", "readlink", "/var/lib/keel/apps/web/current"]);
      expect(out.trim().split("\n").pop()).toBe("1.0");
    }
  });

  expect(errors, "uncaught errors in the pages").toEqual([]);
});
