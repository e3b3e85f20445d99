import { admin, expect, signIn, signOut, test, uniqueEmail } from "@/e2e/fixtures/test";

test("[AUDIT][LIST]: the audit page shows sign-ins, user creation and session revocation, and the chain verifies", async ({
  page,
}) => {
  const email = uniqueEmail("audited");
  const password = "operator-password-3";

  // Things worth auditing, done through the pages.
  await signIn(page, admin.email, admin.password, "/users");
  const form = page.getByRole("form", { name: "Create user" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Name").fill("Ada Audited");
  await form.getByLabel("Initial password").fill(password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("status")).toHaveText(`Created ${email}.`);
  await signOut(page);
  await signIn(page, email, password);
  await signOut(page);
  await signIn(page, admin.email, admin.password, "/users");
  await page.getByTestId(`user-row-${email}`).getByRole("button", { name: "Revoke sessions" }).click();
  await expect(page.getByTestId(`user-row-${email}`).getByRole("status")).toContainText(
    "Signed out everywhere",
  );

  await page.getByRole("link", { name: "Audit" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  const rows = page.getByTestId("audit-row");

  // The new user's own sign-in, filtered by actor.
  await page.getByLabel("Actor (email)").fill(email);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/actor=/);
  await expect(rows.filter({ hasText: "auth.sign_in" }).first()).toBeVisible();
  await expect(rows.filter({ hasNotText: email })).toHaveCount(0);

  // What the admin did to that user, filtered by action; the target names the user.
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByLabel("Actor (email)")).toHaveValue("");
  await page.getByLabel("Action").fill("user.create");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=user\.create/);
  await expect(rows.filter({ hasText: email }).first()).toBeVisible();
  await expect(rows.filter({ hasNotText: "user.create" })).toHaveCount(0);

  await page.getByLabel("Action").fill("session.revoke");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=session\.revoke/);
  const revoke = rows.filter({ hasText: email });
  await expect(revoke.first()).toBeVisible();
  await expect(revoke.first()).toContainText(admin.email);

  // A whole category: every user.* action, nothing else.
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByLabel("Action")).toHaveValue("");
  await page.getByLabel("Category").selectOption({ label: "users" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=user\./);
  await expect(rows.filter({ hasText: "user.create" }).first()).toBeVisible();
  await expect(rows.filter({ hasNotText: "user." })).toHaveCount(0);

  await page.getByRole("button", { name: "Verify chain" }).click();
  // Checked against the signed checkpoints the console keeps outside the database (the first one
  // was written when start-up created the admin).
  await expect(page.getByRole("status").filter({ hasText: "Chain intact" })).toContainText(
    /matching \d+ signed checkpoints \(newest #\d+ of/,
  );
});
