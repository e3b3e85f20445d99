// Inventory end to end: three real lab hosts (sshd in network namespaces, the real agent) are
// enrolled through the console by an admin who accepts each fetched fingerprint; their facts show;
// the host list filters by label and exports CSV. An auditor is refused by the page and the API.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { useLabForConsole } from "@/e2e/fixtures/lab-cli";
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

const LAB = "e2einv" + randomBytes(2).toString("hex");

// The lab authorizes the console's own SSH key (created here if the console has not yet).
const inventory = useLabForConsole(LAB, 3);

test("[INVENTORY][ENROLL]: admin enrolls three lab hosts accepting their fingerprints, sees facts, filters by label, exports CSV", async ({
  page,
}) => {
  test.setTimeout(300_000);
  await signIn(page, admin.email, admin.password, "/hosts/enroll");
  const roles = ["web", "web", "db"];
  for (const [i, h] of inventory().hosts.entries()) {
    await test.step(`enroll ${h.name}`, async () => {
      const form = page.getByRole("form", { name: "Enroll host" });
      await form.getByLabel("Name").fill(`${LAB}-${i}`);
      await form.getByLabel("Address").fill(h.address);
      await form.getByLabel("SSH port").fill(String(h.port));
      await form.getByLabel("Labels").fill(`role=${roles[i]} lab=${LAB}`);
      await form.getByRole("button", { name: "Fetch host key fingerprint" }).click();
      await expect(page.getByTestId("fingerprint")).toHaveText(h.hostKeyFingerprint, { timeout: 30_000 });
      const enroll = page.getByRole("button", { name: "Accept and enroll" });
      await expect(enroll).toBeDisabled(); // nothing is pinned before the admin accepts
      await page.getByLabel("I compared it with the host and accept this fingerprint").check();
      await enroll.click();
      await expect(page.getByRole("status")).toHaveText(
        `${LAB}-${i} is enrolled and its facts were collected.`,
        { timeout: 90_000 },
      );
      await page.getByRole("button", { name: "Enroll another" }).click();
    });
  }

  await test.step("the host list filters by label", async () => {
    await page.goto("/hosts");
    const filters = page.getByRole("form", { name: "Filter hosts" });
    await filters.getByLabel("Labels").fill(`role=web lab=${LAB}`);
    await filters.getByRole("button", { name: "Apply filters" }).click();
    const table = page.getByRole("table", { name: "Hosts" });
    await expect(table.getByRole("link")).toHaveText([`${LAB}-0`, `${LAB}-1`]);
    await expect(table.getByText("reachable", { exact: true })).toHaveCount(2);
  });

  await test.step("CSV export holds exactly the filtered hosts", async () => {
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const file = await download;
    const csv = readFileSync((await file.path())!, "utf8");
    const names = csv
      .trim()
      .split("\r\n")
      .slice(1)
      .map((l) => l.split(",")[0]);
    expect(names).toEqual([`${LAB}-0`, `${LAB}-1`]);
  });

  await test.step("the host page shows the facts the agent reported", async () => {
    await page.getByRole("form", { name: "Filter hosts" }).getByLabel("Labels").fill(`role=db lab=${LAB}`);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("link", { name: `${LAB}-2` }).click();
    const facts = page.getByRole("region", { name: "Facts" });
    const third = inventory().hosts[2]!;
    await expect(facts).toContainText(`${third.user}@${third.address}`);
    await expect(facts).toContainText(third.hostKeyFingerprint);
    await expect(facts.getByText("Kernel").locator("..")).not.toContainText("—");
    await expect(page.getByRole("region", { name: "Timeline" })).toContainText("enrolled with host key");
  });
});

test("[INVENTORY][ENROLL]: an auditor cannot enroll: the page answers 403 and the API refuses", async ({
  browser,
  request,
}) => {
  const email = uniqueEmail("auditor");
  const password = "auditor-password-1";
  await apiSignIn(request, admin.email, admin.password);
  await createUser(request, { email, name: "Ada Auditor", password, roles: ["auditor"] });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    await signIn(page, email, password, "/hosts");
    await expect(page.getByRole("table", { name: "Hosts" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Enroll host" })).toHaveCount(0);
    expect((await page.goto("/hosts/enroll"))?.status()).toBe(403);
    const api = await trpcMutation(ctx.request, "hosts.enroll", {
      name: "sneaky-1",
      address: "10.9.9.9",
      acceptedFingerprint: "SHA256:" + "A".repeat(43),
    });
    expect(api.status).toBe(403);
    const fetchKey = await trpcMutation(ctx.request, "hosts.fetchHostKey", { address: "10.9.9.9" });
    expect(fetchKey.status).toBe(403);
  } finally {
    await ctx.close();
  }
});
