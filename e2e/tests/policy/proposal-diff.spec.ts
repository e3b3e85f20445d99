// A policy proposal is read before it is approved: the admin proposes an edit that only re-indents a
// line (the editor keeps the proposed text and links to it); an approver opens the approval card's
// link, sees the full text and a line diff with the indentation as written, approves, and sees the
// confirmation and the version in force. The edit leaves the policy's meaning unchanged, so the
// other specs on the shared console are not affected.
import { admin, expect, founders, signIn, test } from "@/e2e/fixtures/test";

test("[POLICY][DIFF]: an approver reads a proposal's full text and its diff with indentation intact, approves it, and sees it in force", async ({
  browser,
  page,
}) => {
  const suffix = Date.now().toString(36);
  await signIn(page, admin.email, admin.password, "/policy");
  const editor = page.getByRole("textbox", { name: "Cedar policies", exact: true });
  const before = await editor.inputValue();
  // The first line indented by exactly two spaces, re-indented to six: only whitespace changes.
  const m = /\n( {2})(\S[^\n]*)\n/.exec(before);
  expect(m, "the policy in force has a line indented by two spaces").not.toBeNull();
  const oldLine = `  ${m![2]}`;
  const newLine = `      ${m![2]}`;
  const after = before.replace(`\n${oldLine}\n`, `\n${newLine}\n`) + `\n\n  // reviewed ${suffix}\n`;
  await editor.fill(after);
  await page.getByPlaceholder("Why this change").fill(`re-indent ${suffix}`);
  await expect(page.getByText("The edited policy is valid.")).toBeVisible();
  await page.getByRole("button", { name: "Propose this version" }).click();
  const note = page.getByRole("status").filter({ hasText: "is proposed: it waits for approval" });
  await expect(note).toBeVisible();
  const version = Number(/Version (\d+) is proposed/.exec((await note.textContent())!)![1]);
  // The editor still shows what was proposed, not the text in force, and cannot propose it twice.
  expect(await editor.inputValue()).toBe(after);
  await expect(page.getByRole("button", { name: "Propose this version" })).toBeDisabled();
  await expect(note.getByRole("link", { name: `View proposed version ${version}` })).toHaveAttribute(
    "href",
    `/policy/versions/${version}`,
  );

  const context = await browser.newContext();
  const ap = await context.newPage();
  try {
    await signIn(ap, founders.approver1.email, founders.approver1.password, "/approvals");
    await ap
      .getByRole("region", { name: `Policy version ${version}` })
      .getByRole("link", { name: `Policy version ${version}` })
      .click();
    await expect(ap).toHaveURL((u) => u.pathname === `/policy/versions/${version}`);
    await expect(ap.getByTestId("policy-version-state")).toHaveText("proposed");
    await expect(ap.getByRole("region", { name: "About this version" })).toContainText(`Proposed by`);
    await expect(ap.getByRole("region", { name: "About this version" })).toContainText(admin.email);
    await expect(ap.getByRole("region", { name: "About this version" })).toContainText(`re-indent ${suffix}`);
    // The full text as rendered (innerText follows CSS: collapsed whitespace would show here).
    expect(await ap.getByTestId("policy-cedar").innerText()).toBe(after);
    // The diff: exactly the re-indented line and the appended lines, each as written.
    const cedarDiff = ap.getByRole("table", { name: "Changes to the Cedar policies" });
    const texts = (kind: string) =>
      cedarDiff
        .locator(`tr[data-kind="${kind}"] [data-testid="diff-text"]`)
        .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText));
    expect(await texts("del")).toEqual([oldLine]);
    expect(await texts("add")).toEqual(expect.arrayContaining([newLine, `  // reviewed ${suffix}`]));
    expect((await texts("add")).filter((t) => t.trim() === "")).not.toHaveLength(0); // the blank line added is shown
    // The changed line keeps its place: removed at line n of the old text, added at line n of the new one.
    const n = before.slice(0, before.indexOf(`\n${oldLine}\n`) + 1).split("\n").length;
    await expect(cedarDiff.locator('tr[data-kind="del"] td').nth(0)).toHaveText(String(n));
    await expect(cedarDiff.locator('tr[data-kind="add"] td').nth(1)).toHaveText(String(n));
    expect((await texts("same")).length).toBeGreaterThan(10);
    await expect(ap.getByText("Changes to the maintenance windows: none.")).toBeVisible();

    await ap.getByRole("button", { name: `Approve version ${version}` }).click();
    await expect(ap.getByRole("status").filter({ hasText: "You approved" })).toHaveText(
      `You approved policy version ${version}; it is now the policy in force.`,
    );
    await expect(ap.getByTestId("policy-version-state")).toHaveText("active");
    await expect(ap.getByRole("heading", { name: "This is the version in force" })).toBeVisible();
    await expect(ap.getByRole("button", { name: `Approve version ${version}` })).toHaveCount(0);
  } finally {
    await context.close();
  }
  // The admin's page now says the edited text is in force.
  await page.reload();
  await expect(page.getByText(`version ${version} in force`)).toBeVisible();
  expect(await editor.inputValue()).toBe(after);
});
