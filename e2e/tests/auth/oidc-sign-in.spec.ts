// Sign-in through the organisation's identity provider, in Chromium: a console of its own, a real
// OpenID provider (oidc-provider, e2e/fixtures/oidc-provider.mts) with one user in group keel-ops.
// The admin sets the provider up in Settings; the user signs in with it and gets the mapped role;
// a forged answer is refused with its message on the sign-in page.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "@/e2e/fixtures/test";
import { REPO, startConsole, type RunningConsole } from "@/e2e/fixtures/console";

let keel: RunningConsole;
let idp: ChildProcess;
let provider: { issuer: string; clientId: string; clientSecret: string };

test.beforeAll(async () => {
  test.setTimeout(240_000);
  keel = await startConsole({ logName: "console-oidc.log" });
  idp = spawn(
    join(REPO, "node_modules/.bin/tsx"),
    [
      join(REPO, "e2e/fixtures/oidc-provider.mts"),
      `${keel.url}/api/auth/oidc/callback`,
      "alice:alice@example.org:keel-ops",
    ],
    {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  provider = await new Promise((ok, fail) => {
    let out = "";
    idp.stdout!.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      if (out.includes("\n")) ok(JSON.parse(out.split("\n")[0]!));
    });
    idp.on("exit", (code) => fail(new Error(`the test identity provider exited (${code})`)));
  });
});

test.afterAll(async () => {
  if (idp?.pid) process.kill(idp.pid, "SIGTERM");
  await keel?.stop();
});

test("[AUTH][OIDC]: an admin sets up the identity provider; a user signs in with it and gets the mapped role", async ({
  page,
}) => {
  await page.goto(`${keel.url}/sign-in?next=/settings`);
  await page.getByLabel("Email").fill(keel.adminEmail);
  await page.getByLabel("Password").fill(keel.adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings$/);

  const form = page.getByRole("form", { name: "Identity provider settings" });
  await form.getByLabel("Issuer URL").fill(provider.issuer);
  await form.getByLabel("Client id").fill(provider.clientId);
  await form.getByLabel("Client secret").fill(provider.clientSecret);
  await form.getByLabel("Groups → roles").fill("keel-ops:operator");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText(`Saved: people sign in with ${provider.issuer}.`);

  await page.context().clearCookies();
  await page.goto(`${keel.url}/sign-in?next=/settings`);
  const host = new URL(provider.issuer).host;
  await page.getByRole("link", { name: `Sign in with ${host}` }).click();
  // The provider's own login page.
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("User name").fill("alice");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page).toHaveURL(`${keel.url}/settings`);
  const account = page.locator("section", { has: page.getByRole("heading", { name: "Your account" }) });
  await expect(account).toContainText("alice@example.org");
  await expect(account).toContainText("operator");
});

test("[AUTH][OIDC]: an answer that belongs to no sign-in of this browser is refused with its reason", async ({
  page,
}) => {
  await page.goto(`${keel.url}/api/auth/oidc/callback?code=stolen-code&state=someone-elses-state`);
  await expect(page).toHaveURL(/\/sign-in\?oidc_error=bad_state$/);
  await expect(page.getByRole("alert").filter({ hasText: "state does not match" })).toBeVisible();
});
