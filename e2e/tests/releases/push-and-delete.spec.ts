import { randomBytes } from "node:crypto";
import { formatManifest, generateSigningKey, parsePrivateKey } from "@/agent/protocol";
import { signedManifest } from "@/server/services/releases/test-fixtures";
import { admin, expect, signIn, test } from "@/e2e/fixtures/test";

/** A release as an outside builder would sign it (the stream's bytes need not be a real tree here). */
function release(
  key: ReturnType<typeof parsePrivateKey>,
  app: string,
  version: string,
  stream: Buffer,
): string {
  return formatManifest(signedManifest(key, { app, version, stream }));
}

test("[RELEASES][PUSH]: an admin trusts a builder's key, pushes its release with progress, sees it listed and in detail, is told why a damaged one is refused, and deletes it", async ({
  page,
}) => {
  const suffix = Date.now().toString(36);
  const app = `e2e-${suffix}`;
  const builder = generateSigningKey();
  const key = parsePrivateKey(builder.privateKeyPem);

  await signIn(page, admin.email, admin.password, "/settings");
  const trust = page.getByRole("form", { name: "Trust public key" });
  await trust.getByLabel("Outside signer").fill(`builder ${suffix}`);
  await trust.getByLabel("Public key").fill(builder.publicKeyLine.trim());
  await trust.getByRole("button", { name: "Trust key" }).click();
  const keyRow = page.getByTestId(`key-row-${builder.keyId}`);
  await expect(keyRow).toContainText("public only");
  await expect(keyRow).toContainText("active");

  await page.goto("/releases");
  const panel = page.getByRole("region", { name: "Add a release" });
  // The e2e console's data directory is not on btrfs: building says so, pushing works.
  await panel.getByRole("button", { name: "Build from tree" }).click();
  await expect(panel.getByRole("alert")).toContainText("is not on btrfs");
  await panel.getByRole("button", { name: "Push signed release" }).click();

  const stream = randomBytes(3 * 1024 * 1024);
  const push = page.getByRole("form", { name: "Push release" });
  /** Pushes `version` signed for `stream`, sending `sent` as its stream. */
  const pushRelease = async (version: string, sent: Buffer) => {
    await push.getByLabel("Manifest (manifest.json)").setInputFiles({
      name: "manifest.json",
      mimeType: "application/json",
      buffer: Buffer.from(release(key, app, version, stream)),
    });
    await push
      .getByLabel("Stream")
      .setInputFiles({ name: "web.stream", mimeType: "application/octet-stream", buffer: sent });
    await push.getByRole("button", { name: "Push" }).click();
  };
  await pushRelease("1.0", stream);
  await expect(panel.getByRole("status")).toHaveText(`Pushed ${app} 1.0.`);
  await expect(panel.getByLabel("Upload progress")).toContainText("100%");
  const row = page.getByTestId(`release-row-${app}-1.0`);
  await expect(row).toContainText("3.0 MiB");
  await expect(row).toContainText(`builder ${suffix}`);
  await expect(row.getByTestId("hosts")).toHaveText("0");

  // One flipped byte: refused, with the reason, and nothing is listed.
  const damaged = Buffer.from(stream);
  damaged[1000]! ^= 1;
  await pushRelease("1.1", damaged);
  await expect(panel.getByRole("alert")).toContainText(`${app} 1.1 refused: the stream's SHA-256`);
  await expect(page.getByTestId(`release-row-${app}-1.1`)).toHaveCount(0);

  await row.getByRole("link", { name: "1.0" }).click();
  await expect(page.getByRole("heading", { name: `${app} 1.0` })).toBeVisible();
  await expect(page.getByRole("region", { name: "Manifest" })).toContainText(`"signer": "${builder.keyId}"`);
  await expect(page.getByRole("region", { name: "Hosts" })).toContainText("No host has this version.");
  // The page keeps the list it showed on /releases in its query cache. Whether that list is old
  // enough to be fetched again on the way back must not matter: the deleted release may never
  // be shown, not even for a moment (issue 5: it stayed listed when the way back was quick).
  // Every render of /releases' rows is recorded from here on, to see it.
  await page.evaluate((testId) => {
    const w = window as unknown as { __deletedRowSeen?: boolean };
    w.__deletedRowSeen = false;
    // Only /releases has these rows, so any sighting after the click is the deleted release listed.
    const seen = () => {
      if (document.querySelector(`[data-testid="${testId}"]`)) w.__deletedRowSeen = true;
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
  }, `release-row-${app}-1.0`);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Delete release" }).click();
  await expect(page).toHaveURL(/\/releases$/);
  // The list has loaded: other releases or none.
  const loaded = () =>
    page.locator('[data-testid^="release-row-"]').or(page.getByText("No releases yet.")).first();
  await expect(loaded()).toBeVisible();
  await expect(page.getByTestId(`release-row-${app}-1.0`)).toHaveCount(0);
  expect(
    await page.evaluate(() => (window as unknown as { __deletedRowSeen?: boolean }).__deletedRowSeen),
    "the deleted release was shown on /releases",
  ).toBe(false);
  // The server agrees: a fresh page load does not list it either.
  await page.reload();
  await expect(loaded()).toBeVisible();
  await expect(page.getByTestId(`release-row-${app}-1.0`)).toHaveCount(0);
});
