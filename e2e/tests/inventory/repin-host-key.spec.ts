// Re-pinning a changed host key in the browser: a real lab host (sshd in a network namespace) is
// enrolled on the shared console, then given a new host key (`lab rekey`, as a reinstall would).
// A refresh from the host list flags it "host key changed"; an auditor sees the flag but no way to
// re-pin, and the API refuses them; the admin opens the host page, sees the fingerprint the host
// now presents (one it does not present is refused), confirms it, and the host answers again under
// the same id (URL), its timeline from before the change kept and the re-pin recorded.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { labCli, useLabForConsole } from "@/e2e/fixtures/lab-cli";
import {
  admin,
  apiSignIn,
  createUser,
  expect,
  signIn,
  test,
  trpcMutation,
  uniqueEmail,
} from "@/e2e/fixtures/test";

const LAB = "e2erp" + randomBytes(2).toString("hex");
const NAME = `${LAB}-db`;

const lab = (...args: string[]) => labCli(LAB, ...args);

/** Ends the SSH sessions of a lab host: the children of its sshd (by its pid file), not sshd itself. */
function endSessions(host: string): void {
  const sshd = readFileSync(`/var/lib/keel-lab/${LAB}/hosts/${host}/sshd.pid`, "utf8").trim();
  const children = spawnSync("pgrep", ["-P", sshd], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const pid of children) spawnSync("kill", [pid]);
}

/** The host list, filtered to this spec's lab host. */
async function listThisLab(page: Page) {
  await page.goto("/hosts");
  const filters = page.getByRole("form", { name: "Filter hosts" });
  await filters.getByLabel("Labels").fill(`lab=${LAB}`);
  await filters.getByRole("button", { name: "Apply filters" }).click();
  const table = page.getByRole("table", { name: "Hosts" });
  await expect(table.getByRole("link")).toHaveText([NAME]);
  return table.locator("tr", { has: page.getByRole("link", { name: NAME }) });
}

const inventory = useLabForConsole(LAB, 1);

test("[INVENTORY][REPIN]: a host whose key changed is flagged, the admin re-pins the new fingerprint, the host keeps its id and history; an auditor cannot", async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(300_000);
  const h = inventory().hosts[0]!;
  const oldKey = h.hostKeyFingerprint;
  let hostPath = "";

  await test.step("the admin enrolls the host, pinning its key", async () => {
    await apiSignIn(request, admin.email, admin.password);
    const r = await trpcMutation(request, "hosts.enroll", {
      name: NAME,
      address: h.address,
      port: h.port,
      labels: { lab: LAB },
      acceptedFingerprint: oldKey,
    });
    expect(r.status, JSON.stringify(r.body?.error?.json.message)).toBe(200);
    hostPath = `/hosts/${(r.body!.result!.data.json as { id: string }).id}`;
    await signIn(page, admin.email, admin.password, hostPath);
    await expect(page.getByRole("region", { name: "Facts" })).toContainText(oldKey);
    await expect(page.getByRole("region", { name: "Timeline" })).toContainText(
      `enrolled with host key ${oldKey}`,
    );
  });

  // The machine is reinstalled: sshd now serves a new host key, and the console's connections
  // made before are gone (a reinstall ends them; `lab rekey` only reloads sshd, which keeps them).
  const rekeyed = lab("rekey", h.name);
  const newKey = rekeyed.match(/new host key (SHA256:[A-Za-z0-9+/]{43})/)?.[1];
  expect(newKey, rekeyed).toBeTruthy();
  expect(newKey).not.toBe(oldKey);
  endSessions(h.name);

  await test.step("a refresh from the host list flags it: host key changed", async () => {
    const row = await listThisLab(page);
    await expect(row.getByText("reachable", { exact: true })).toBeVisible();
    await row.getByRole("checkbox", { name: `Select ${NAME}` }).check();
    await page.getByRole("button", { name: "Refresh selected" }).click();
    // A failure is told as one (an error note), not in a green success banner.
    await expect(page.getByRole("alert").filter({ hasText: "Refreshed 1: 0 ok" })).toContainText(
      "1 host key changed",
      { timeout: 60_000 },
    );
    await expect(row.getByText("host key changed")).toBeVisible();
  });

  await test.step("an auditor sees the flag but cannot re-pin, in the page or the API", async () => {
    const email = uniqueEmail("auditor-repin");
    const password = "auditor-repin-password-1";
    await createUser(request, { email, name: "Rae Auditor", password, roles: ["auditor"] });
    const ctx = await browser.newContext();
    try {
      const aud = await ctx.newPage();
      await signIn(aud, email, password, hostPath);
      await expect(aud.getByText(`The host presented a different host key (${newKey})`)).toBeVisible();
      await expect(aud.getByRole("region", { name: "Facts" })).toBeVisible();
      await expect(aud.getByRole("region", { name: "Re-pin host key" })).toHaveCount(0);
      await expect(aud.getByRole("button", { name: "Re-pin host key" })).toHaveCount(0);
      const api = await trpcMutation(ctx.request, "hosts.repin", {
        id: hostPath.split("/").pop(),
        acceptedFingerprint: newKey,
      });
      expect(api.status).toBe(403);
    } finally {
      await ctx.close();
    }
  });

  await test.step("the admin opens the host page, sees the presented fingerprint and re-pins it", async () => {
    await page.getByRole("link", { name: NAME }).click();
    await expect(page).toHaveURL((u) => u.pathname === hostPath);
    await expect(
      page.getByText(`The host presented a different host key (${newKey}) than the pinned ${oldKey}`),
    ).toBeVisible();
    const panel = page.getByRole("region", { name: "Re-pin host key" });
    await expect(panel).toContainText(`Pinned: ${oldKey}`);
    await expect(panel.getByLabel("New fingerprint (as the host presents it now)")).toHaveValue(newKey!);
    const repin = panel.getByRole("button", { name: "Re-pin host key" });
    await expect(repin).toBeDisabled(); // not before the admin confirms the check on the machine
    await panel.getByLabel("I checked this fingerprint on the machine").check();
    // A fingerprint the host does not present is refused, saying what it presents; nothing changes.
    const field = panel.getByLabel("New fingerprint (as the host presents it now)");
    await field.fill(oldKey);
    await repin.click();
    await expect(panel.getByRole("alert")).toContainText(
      `${NAME} presents ${newKey}, not the accepted ${oldKey}; nothing changed`,
      { timeout: 30_000 },
    );
    await expect(page.getByText(`The host presented a different host key (${newKey})`)).toBeVisible();
    await field.fill(newKey!);
    await repin.click();
    await expect(page.getByRole("status").filter({ hasText: "Re-pinned" })).toHaveText(
      `Re-pinned ${NAME}: Keel now expects host key ${newKey}.`,
      { timeout: 30_000 },
    );
    await expect(page.getByText("The host presented a different host key")).toHaveCount(0);
    await expect(page.getByRole("region", { name: "Facts" })).toContainText(newKey!);
  });

  await test.step("the host answers again, under the same id, with its history kept", async () => {
    await page.getByRole("button", { name: "Refresh now" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Refreshed" })).toHaveText(
      /^Refreshed: (nothing changed|changes recorded)\.$/,
      { timeout: 60_000 },
    );
    await expect(page).toHaveURL((u) => u.pathname === hostPath);
    const timeline = page.getByRole("region", { name: "Timeline" });
    await expect(timeline).toContainText(`enrolled with host key ${oldKey}`);
    await expect(timeline).toContainText(`host key re-pinned ${oldKey} → ${newKey}`);
    await expect(timeline.getByText("host.key_changed")).toHaveCount(1);
    const row = await listThisLab(page);
    await expect(row.getByText("reachable", { exact: true })).toBeVisible();
    await expect(row.getByRole("link", { name: NAME })).toHaveAttribute("href", hostPath);
    // Not retired and enrolled again: the same host carries on.
    await expect(page.getByText(NAME)).toHaveCount(1);
  });
});
