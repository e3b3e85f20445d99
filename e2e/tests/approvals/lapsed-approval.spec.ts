import { randomBytes } from "node:crypto";
import { formatManifest, generateSigningKey, parsePrivateKey } from "@/agent/protocol";
import { signedManifest } from "@/server/services/releases/test-fixtures";
import {
  admin,
  apiSignIn,
  consoleUrl,
  expect,
  founders,
  signIn,
  test,
  trpcMutation,
  type TrpcEnvelope,
} from "@/e2e/fixtures/test";

const data = <T>(r: { status: number; body: TrpcEnvelope | null }): T => {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body!.result!.data.json as T;
};

/** A signed release as an outside builder makes it (the stream need not be a real tree: it is never sent). */
function signedRelease(app: string, version: string) {
  const builder = generateSigningKey();
  const stream = randomBytes(256 * 1024);
  const manifest = formatManifest(
    signedManifest(parsePrivateKey(builder.privateKeyPem), {
      app,
      version,
      stream,
      created: "2026-12-05T12:00:00Z",
    }),
  );
  return { publicKey: builder.publicKeyLine.trim(), manifest: Buffer.from(manifest), stream };
}

test("[APPROVALS][LAPSE]: a prod host moved to dev after one approval — the next approval is refused, approvers see the lapsed approval with its reason, and the requester plans it again", async ({
  browser,
  page,
  request,
  playwright,
}) => {
  const suffix = Date.now().toString(36);
  const app = `lapse-${suffix}`;
  const hostName = `web-${suffix}`;

  // Set-up through the API, as an admin: people, a trusted signer and its release, one prod host.
  await apiSignIn(request, admin.email, admin.password);
  // The console's founders: people an admin creates rest on that admin, and their approvals of
  // each other would not count (the two-person rule, docs/policy.md).
  const operator = founders.operator;
  const first = founders.approver1;
  const second = founders.approver2;
  const rel = signedRelease(app, "1.0");
  data(await trpcMutation(request, "keys.import", { name: `builder ${suffix}`, publicKey: rel.publicKey }));
  const pushed = await request.post("/api/releases/upload?mode=push", {
    data: Buffer.concat([rel.manifest, rel.stream]),
    headers: {
      origin: consoleUrl(),
      "content-type": "application/octet-stream",
      "x-keel-manifest-bytes": String(rel.manifest.length),
    },
  });
  expect(pushed.status(), await pushed.text()).toBe(200);
  const csv = `name,address,fingerprint\n${hostName},10.77.0.3,SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}\n`;
  const imported = data<{ outcomes: { id?: string; status: string }[] }>(
    await trpcMutation(request, "hosts.import", { format: "csv", text: csv, environment: "prod" }),
  );
  const hostId = imported.outcomes[0]!.id!;

  // The operator asks for the prod update (two approvals); the first approver approves it.
  const op = await playwright.request.newContext({ baseURL: consoleUrl() });
  const ap1 = await playwright.request.newContext({ baseURL: consoleUrl() });
  try {
    await apiSignIn(op, operator.email, operator.password);
    const r = data<{ id: string; number: number; state: string; digest: string }>(
      await trpcMutation(op, "rollouts.create", {
        action: "update",
        app,
        version: "1.0",
        targets: { ids: [hostId] },
        waves: ["1"],
      }),
    );
    expect(r.state).toBe("awaiting_approval");
    await apiSignIn(ap1, first.email, first.password);
    expect(
      data<{ state: string }>(
        await trpcMutation(ap1, "rollouts.approve", { rolloutId: r.id, digest: r.digest }),
      ).state,
    ).toBe("awaiting_approval");

    // The second approver has the rollout open when the operator moves the host out of prod.
    await signIn(page, second.email, second.password, "/approvals");
    const pending = page.getByRole("region", { name: `Rollout ${r.number}`, exact: true });
    await expect(pending).toContainText("changes to prod need two approvers");
    // Moving a prod host is itself governed: the operator's request waits for two approvers, and
    // once both agree the host is in dev — after the rollout's first approval.
    const move = await trpcMutation(op, "hosts.setEnvironment", { hostIds: [hostId], environment: "dev" });
    expect(move.status, JSON.stringify(move.body)).toBe(403);
    const change = (
      move.body as unknown as {
        error: {
          json: { data: { appCode: string; details: { changeRequest: { id: string; digest: string } } } };
        };
      }
    ).error.json.data;
    expect(change.appCode).toBe("APPROVAL_REQUIRED");
    const ap2 = await playwright.request.newContext({ baseURL: consoleUrl() });
    try {
      await apiSignIn(ap2, second.email, second.password);
      const { id, digest } = change.details.changeRequest;
      for (const ctx of [ap1, ap2]) data(await trpcMutation(ctx, "policy.approveChange", { id, digest }));
    } finally {
      await ap2.dispose();
    }
    await pending.getByRole("button", { name: "Approve" }).click();
    const reason = `host ${hostName} moved from prod to dev after approval`;
    await expect(page.getByRole("alert").first()).toContainText(
      `The approvals of rollout ${r.number} lapsed: ${reason}. It must be planned again`,
    );
    const lapsed = page.getByRole("region", { name: `Lapsed: rollout ${r.number}` });
    await expect(lapsed.getByTestId("lapse-reason")).toHaveText(`Why: ${reason}`);
    await expect(lapsed).toContainText(`Approvals that no longer count: ${first.email}`);
    await expect(page.getByRole("region", { name: `Rollout ${r.number}`, exact: true })).toHaveCount(0);

    // The first approver sees their approval lapsed, here and on the rollout's page.
    const context = await browser.newContext();
    const other = await context.newPage();
    try {
      await signIn(other, first.email, first.password, "/approvals");
      const mine = other.getByRole("region", { name: `Lapsed: rollout ${r.number}` });
      await expect(mine).toContainText("(including yours)");
      await mine.getByRole("link", { name: `Rollout ${r.number}` }).click();
      await expect(other.getByTestId("rollout-state")).toHaveText(/paused/i);
      await expect(other.getByTestId("lapse-reason")).toHaveText(`Approvals lapsed: ${reason}.`);
      await expect(other.getByRole("region", { name: "Approvals" })).toContainText(
        "(lapsed: no longer counts)",
      );
      await expect(other.getByRole("button", { name: "Resume" })).toHaveCount(0);
    } finally {
      await context.close();
    }

    // The way forward: the operator plans it again, on the host as it is now (dev: no approval needed).
    const opContext = await browser.newContext();
    const opPage = await opContext.newPage();
    try {
      await signIn(opPage, operator.email, operator.password, `/rollouts/${r.id}`);
      await expect(opPage.getByTestId("lapse-reason")).toHaveText(`Approvals lapsed: ${reason}.`);
      await opPage.getByRole("button", { name: "Plan again" }).click();
      await expect(opPage.getByTestId("rollout-state")).toHaveText("approved");
      await expect(opPage.getByTestId("lapse-reason")).toHaveCount(0);
      await expect(opPage.getByRole("region", { name: "Summary" })).toContainText("allowed without approval");
    } finally {
      await opContext.close();
    }
  } finally {
    await op.dispose();
    await ap1.dispose();
  }
});
