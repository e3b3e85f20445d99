import { admin, apiSignIn, createUser, expect, test, uniqueEmail } from "@/e2e/fixtures/test";

// Runs last (project "rate-limits"), so its failed attempts from this address cannot get in
// the way of other tests' sign-ins.
// The backoff grows with each failure (1 s, 2 s, 4 s … after 5 free ones), so a browser typing
// wrong passwords soon tries again before its wait is over. The owner at another address is not
// stopped (server/auth/auth-flow.int.test.ts; a browser here has only one address).
test("[AUTH][RATE-LIMIT]: repeated wrong passwords are slowed down, and then even the right one is refused from that address", async ({
  page,
  request,
}) => {
  const email = uniqueEmail("guessed");
  const password = "the-right-password-1";
  await apiSignIn(request, admin.email, admin.password);
  await createUser(request, { email, name: "Gus Guessed", password, roles: ["operator"] });

  await page.goto("/sign-in");
  // The form's own alert (Next.js adds a route announcer with role=alert as well).
  const alert = page.getByRole("form", { name: "Sign in" }).getByRole("alert");
  const button = page.getByRole("button", { name: "Sign in" });
  // Wrong passwords until the wait shown is at least 4 seconds, so that the right password below
  // certainly arrives within the wait. Attempts refused while waiting do not count, so after each
  // shorter wait the test waits it out (a fast browser would otherwise spend its 30 attempts
  // inside the first waits).
  let limitedAt = 0;
  let wait = 0;
  for (let attempt = 1; attempt <= 30 && wait < 4; attempt++) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(`wrong-guess-${attempt}`);
    await button.click();
    await expect(alert).toHaveText(
      /Wrong e-mail or password, or the account is disabled\.|Too many failed sign-in attempts/,
    );
    await expect(button).toBeEnabled();
    const m = /Too many failed sign-in attempts\. Try again in (\d+) (seconds?|minutes?)\./.exec(
      (await alert.textContent()) ?? "",
    );
    if (m) {
      limitedAt ||= attempt;
      wait = Number(m[1]) * (m[2]!.startsWith("minute") ? 60 : 1);
      if (wait < 4) await page.waitForTimeout(wait * 1000 + 100);
    }
  }
  expect(limitedAt, "30 wrong passwords in a row were never slowed down").toBeGreaterThan(5);
  expect(wait).toBeGreaterThanOrEqual(4);

  // While limited, the right password is refused as well.
  await page.getByLabel("Password").fill(password);
  await button.click();
  await expect(alert).toContainText("Too many failed sign-in attempts");
  await expect(page).toHaveURL(/\/sign-in/);
});
