import { admin, expect, test } from "../../fixtures/test";

// Runs last (project "rate-limits"): afterwards sign-ins from this address are throttled.
test("[AUTH][RATE-LIMIT]: repeated wrong passwords are rate limited, even the right one then", async ({ page }) => {
  await page.goto("/sign-in");
  const alert = page.getByRole("alert");
  let limited = false;
  for (let attempt = 1; attempt <= 30 && !limited; attempt++) {
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(`wrong-${attempt}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(alert).toHaveText(/Email or password is incorrect\.|Too many sign-in attempts/);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
    limited = /Too many sign-in attempts/.test((await alert.textContent()) ?? "");
  }
  expect(limited, "30 wrong passwords in a row were never rate limited").toBe(true);
  await expect(alert).toContainText("Try again in");

  // While limited, even the right password is refused, with the same message.
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(alert).toContainText("Too many sign-in attempts");
  await expect(page).toHaveURL(/\/sign-in/);
});
