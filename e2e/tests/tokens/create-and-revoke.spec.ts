import { admin, consoleUrl, expect, signIn, test } from "@/e2e/fixtures/test";

test("[TOKENS][CREATE]: a token is shown once, works for the API, shows when it was last used, and stops working when revoked", async ({
  page,
  playwright,
}) => {
  const name = `ci-${Date.now().toString(36)}`;
  await signIn(page, admin.email, admin.password, "/settings");
  const form = page.getByRole("form", { name: "Create API token" });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByTestId("new-token").inputValue();
  expect(secret).toMatch(/^keel_/);
  await expect(page.getByRole("status", { name: "New API token" })).toContainText(
    "it will not be shown again",
  );
  const row = page.getByTestId(`token-row-${name}`);
  await expect(row).toContainText("never");
  // The list shows only a prefix, never the secret.
  await expect(row).not.toContainText(secret);

  // A script with the token (no cookie, no Origin) reads the API as the admin.
  const api = await playwright.request.newContext({
    baseURL: consoleUrl(),
    extraHTTPHeaders: { authorization: `Bearer ${secret}` },
  });
  try {
    const who = await api.get("/api/trpc/me.whoami");
    expect(who.status()).toBe(200);
    expect(JSON.stringify(await who.json())).toContain(admin.email);

    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByTestId("new-token")).toHaveCount(0);
    await page.reload();
    await expect(row).not.toContainText("never");

    await row.getByRole("button", { name: "Revoke" }).click();
    await expect(row).toContainText("revoked");
    expect((await api.get("/api/trpc/me.whoami")).status()).toBe(401);
  } finally {
    await api.dispose();
  }
});
