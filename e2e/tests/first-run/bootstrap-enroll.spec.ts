// Enrolling a host that does not trust the console's key yet, from the enroll page: a lab host that
// trusts only a key of its own (the admin's key here), whose private half the admin pastes once.
// The console installs its key with it (after the accepted host key), enrolls the host and
// collects its facts with its own key; the form forgets the key, and the audit has no trace of it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { LabInventory } from "@/infra/lab/api";
import { labCli, labUp } from "@/e2e/fixtures/lab-cli";
import { admin, expect, signIn, test } from "@/e2e/fixtures/test";

const LAB = "e2eboot" + randomBytes(2).toString("hex");
let inv: LabInventory;

const lab = (...args: string[]) => labCli(LAB, ...args);

test.beforeAll(async () => {
  test.setTimeout(600_000);
  inv = labUp(LAB, 1, "--own-key");
});
test.afterAll(async () => {
  test.setTimeout(300_000);
  lab("down");
});

test("[INVENTORY][BOOTSTRAP]: admin enrolls a host that trusts only their own key, pasted once", async ({
  page,
}) => {
  test.setTimeout(300_000);
  const h = inv.hosts[0]!;
  const adminKey = readFileSync(inv.consoleKey.privateKeyPath!, "utf8");
  await signIn(page, admin.email, admin.password, "/hosts/enroll");
  await expect(page.getByTestId("console-ssh-key")).toContainText(/^ssh-ed25519 /);
  const form = page.getByRole("form", { name: "Enroll host" });
  await form.getByLabel("Name").fill(`${LAB}-boot`);
  await form.getByLabel("Address").fill(h.address);
  await form.getByLabel("SSH port").fill(String(h.port));
  await form.getByText("This host does not trust the console's key yet").click();
  await form.getByRole("radio", { name: "Private key" }).check();
  await form.getByLabel("A private key the host already trusts").fill(adminKey);
  await form.getByRole("button", { name: "Fetch host key fingerprint" }).click();
  await expect(page.getByTestId("fingerprint")).toHaveText(h.hostKeyFingerprint, { timeout: 30_000 });
  await page.getByLabel("I compared it with the host and accept this fingerprint").check();
  await page.getByRole("button", { name: "Install the console's key, accept and enroll" }).click();
  await expect(page.getByRole("status")).toHaveText(`${LAB}-boot is enrolled and its facts were collected.`, {
    timeout: 90_000,
  });

  await page.goto(`/audit`);
  await expect(page.getByText("host.console_key_installed").first()).toBeVisible();
  expect(await page.content()).not.toContain(adminKey.split("\n")[1]!);
});
