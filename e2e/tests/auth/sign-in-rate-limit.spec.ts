import { admin, apiSignIn, expect, test, trpcMutation, uniqueEmail } from "../../fixtures/test";

// Runs last (project "rate-limits"), so its failed attempts from this address cannot get in
// the way of other tests' sign-ins.
test("[AUTH][RATE-LIMIT]: repeated wrong passwords are rate limited, and then even the right one is refused", async ({ page, request }) => {
  const email = uniqueEmail("guessed");
  const password = "the-right-password-1";
  await apiSignIn(request, admin.email, admin.password);
  expect((await trpcMutation(request, "users.create", { email, name: "Gus Guessed", password, roles: ["operator"] })).status).toBe(200);

  await page.goto("/sign-in");
  // The form's own alert (Next.js adds a route announcer with role=alert as well).
  const alert = page.getByRole("form", { name: "Sign in" }).getByRole("alert");
  const button = page.getByRole("button", { name: "Sign in" });
  let limitedAt = 0;
  for (let attempt = 1; attempt <= 10 && !limitedAt; attempt++) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(`wrong-guess-${attempt}`);
    await button.click();
    await expect(alert).toHaveText(/Wrong e-mail or password, or the account is disabled\.|Too many failed sign-in attempts/);
    await expect(button).toBeEnabled();
    if (/Too many failed sign-in attempts/.test((await alert.textContent()) ?? "")) limitedAt = attempt;
  }
  expect(limitedAt, "10 wrong passwords in a row were never rate limited").toBeGreaterThan(1);
  await expect(alert).toHaveText(/Try again in \d+ (seconds|minutes?)\./);

  // While limited, the right password is refused as well.
  await page.getByLabel("Password").fill(password);
  await button.click();
  await expect(alert).toContainText("Too many failed sign-in attempts");
  await expect(page).toHaveURL(/\/sign-in/);
});
