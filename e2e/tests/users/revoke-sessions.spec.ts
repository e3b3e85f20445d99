import { admin, apiSignIn, createUser, expect, signIn, test, uniqueEmail } from "@/e2e/fixtures/test";

test("[USERS][REVOKE]: admin revokes an operator's sessions and the operator's next request is refused", async ({
  browser,
  page,
  request,
}) => {
  const email = uniqueEmail("revoked");
  const password = "operator-password-2";
  await apiSignIn(request, admin.email, admin.password);
  await createUser(request, { email, name: "Rory Revoked", password, roles: ["operator"] });

  // The operator works in a browser of their own.
  const operatorContext = await browser.newContext();
  const operator = await operatorContext.newPage();
  try {
    await signIn(operator, email, password, "/settings");
    await expect(operator.getByRole("heading", { name: "API tokens" })).toBeVisible();

    await signIn(page, admin.email, admin.password, "/users");
    const row = page.getByTestId(`user-row-${email}`);
    await row.getByRole("button", { name: "Revoke sessions" }).click();
    await expect(row.getByRole("status")).toContainText("Signed out everywhere (1 session revoked)");

    // The very next page load is refused and lands on sign-in, with the way back remembered.
    await operator.goto("/settings");
    await expect(operator).toHaveURL(/\/sign-in\?next=%2Fsettings$/);
    await expect(operator.getByRole("button", { name: "Sign in" })).toBeVisible();
    // And the API refuses the old cookie too.
    const res = await operator.request.get("/api/trpc/tokens.list");
    expect(res.status()).toBe(401);
  } finally {
    await operatorContext.close();
  }
});
