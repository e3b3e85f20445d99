import { admin, expect, signIn, signOut, test, trpcQuery, uniqueEmail } from "@/e2e/fixtures/test";

test("[USERS][CREATE]: admin creates an operator, who can sign in but cannot open Users", async ({
  page,
}) => {
  const email = uniqueEmail("operator");
  const password = "operator-password-1";

  await test.step("admin signs in and creates an operator", async () => {
    await signIn(page, admin.email, admin.password, "/users");
    const form = page.getByRole("form", { name: "Create user" });
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Name").fill("Olga Operator");
    await form.getByLabel("Initial password").fill(password);
    await form.getByLabel("operator").check();
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(form.getByRole("status")).toHaveText(`Created ${email}.`);
    const row = page.getByTestId(`user-row-${email}`);
    await expect(row).toContainText("active");
    await expect(row.getByLabel("operator")).toBeChecked();
    await expect(row.getByLabel("admin")).not.toBeChecked();
    await signOut(page);
  });

  await test.step("the operator signs in and sees their roles", async () => {
    await signIn(page, email, password);
    await expect(page.getByTestId("viewer-roles")).toHaveText("operator");
    // Users is listed but marked as needing admin.
    await expect(page.getByRole("link", { name: /Users/ })).toHaveAttribute("title", "Needs role: admin");
  });

  await test.step("the Users page refuses the operator with 403", async () => {
    const res = await page.goto("/users");
    expect(res?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
    // No user data: not the user list, not the admin's account, not the create form.
    await expect(page.getByText(admin.email)).toHaveCount(0);
    await expect(page.getByRole("form", { name: "Create user" })).toHaveCount(0);
    await expect(page.getByTestId(`user-row-${email}`)).toHaveCount(0);
  });

  await test.step("the API refuses users.list from the operator's browser session", async () => {
    const { status, body } = await trpcQuery(page.request, "users.list");
    expect(status).toBe(403);
    expect(body?.error?.json.data.code).toBe("FORBIDDEN");
    expect(body?.result).toBeUndefined();
  });
});
