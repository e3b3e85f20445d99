import { admin, expect, signIn, test } from "@/e2e/fixtures/test";

test("[SHELL][NAVIGATE]: the navigation reaches every section and marks it, and the theme follows the system until chosen", async ({
  browser,
}) => {
  const context = await browser.newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  try {
    await signIn(page, admin.email, admin.password, "/settings");
    const nav = page.getByRole("navigation", { name: "Main" });
    // Hosts is left out: its pages come with the inventory work.
    for (const label of ["Releases", "Rollouts", "Approvals", "Policy", "Audit", "Users", "Settings"]) {
      const link = nav.getByRole("link", { name: label });
      await link.click();
      await expect(page).toHaveURL(new RegExp(`/${label.toLowerCase()}$`));
      await expect(link).toHaveAttribute("aria-current", "page");
      await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
      await expect(page.getByText("No such page")).toHaveCount(0);
      // A section not built yet says which issue brings it, and shows no made-up data.
      const placeholder = page.getByText(/^Not built yet — arrives with issue \d+\.$/);
      if ((await placeholder.count()) > 0) await expect(page.getByRole("table")).toHaveCount(0);
    }

    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const darkBg = await background();
    await page.getByRole("button", { name: "Theme: system" }).click(); // → light
    await expect(page.getByRole("button", { name: "Theme: light" })).toBeVisible();
    const lightBg = await background();
    expect(lightBg).not.toBe(darkBg);
    // The choice survives a reload (cookie, rendered by the server: no flash of the other theme).
    await page.reload();
    await expect(page.getByRole("button", { name: "Theme: light" })).toBeVisible();
    expect(await background()).toBe(lightBg);
    await page.getByRole("button", { name: "Theme: light" }).click(); // → dark
    await page.getByRole("button", { name: "Theme: dark" }).click(); // → system (dark here)
    await expect(page.getByRole("button", { name: "Theme: system" })).toBeVisible();
    expect(await background()).toBe(darkBg);
  } finally {
    await context.close();
  }
});
