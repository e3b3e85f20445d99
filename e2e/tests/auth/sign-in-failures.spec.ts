import { admin, expect, test } from "@/e2e/fixtures/test";

test("[AUTH][SIGN-IN]: a wrong password gets the same generic message as an unknown user", async ({
  page,
}) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  // The form's own alert (Next.js adds a route announcer with role=alert as well).
  const alert = page.getByRole("form", { name: "Sign in" }).getByRole("alert");
  await expect(alert).toHaveText("Wrong e-mail or password, or the account is disabled.");
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByLabel("Email").fill("nobody-here@keel.test");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(alert).toHaveText("Wrong e-mail or password, or the account is disabled.");
});

test("[AUTH][SIGN-IN]: an unsigned visitor is sent to sign-in and comes back after signing in", async ({
  page,
}) => {
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Faudit$/);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
});
