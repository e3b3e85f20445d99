import { admin, apiSignIn, createUser, expect, signIn, test, uniqueEmail } from "@/e2e/fixtures/test";

test("[USERS][ROLES]: a role given by the admin opens Audit for that user; a disabled user is signed out and cannot sign in", async ({
  browser,
  page,
  request,
}) => {
  const email = uniqueEmail("promoted");
  const password = "operator-password-4";
  await apiSignIn(request, admin.email, admin.password);
  await createUser(request, { email, name: "Pat Promoted", password, roles: ["operator"] });

  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  try {
    await signIn(user, email, password);
    expect((await user.goto("/audit"))?.status()).toBe(403);

    await signIn(page, admin.email, admin.password, "/users");
    const row = page.getByTestId(`user-row-${email}`);
    await row.getByLabel("auditor").check();
    await row.getByRole("button", { name: "Save roles" }).click();
    await expect(row.getByRole("status")).toHaveText("Roles saved.");
    await page.reload();
    await expect(page.getByTestId(`user-row-${email}`).getByLabel("auditor")).toBeChecked();

    // Same session, new role: the next page load has it.
    expect((await user.goto("/audit"))?.status()).toBe(200);
    await expect(user.getByRole("heading", { name: "Audit log" })).toBeVisible();
    await expect(user.getByTestId("viewer-roles")).toHaveText("operator, auditor"); // listed in the console's role order

    await row.getByRole("button", { name: "Disable" }).click();
    await expect(row).toContainText("disabled");
    await user.goto("/settings");
    await expect(user).toHaveURL(/\/sign-in\?next=%2Fsettings$/);
    await user.getByLabel("Email").fill(email);
    await user.getByLabel("Password").fill(password);
    await user.getByRole("button", { name: "Sign in" }).click();
    await expect(user.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText(
      "Wrong e-mail or password, or the account is disabled.",
    );

    await row.getByRole("button", { name: "Enable" }).click();
    await expect(row).toContainText("active");
    await signIn(user, email, password);
  } finally {
    await userContext.close();
  }
});
