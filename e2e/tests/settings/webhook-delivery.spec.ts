// Settings → Notifications: an admin adds a webhook pointing at a receiver this spec starts on
// 127.0.0.1 (the e2e console runs with KEEL_WEBHOOK_ALLOW_PRIVATE=1; against a console of your own,
// set it there), copies the signing secret shown once, and an approval request (creating an
// approver, which the default policy sends to an approver) arrives at the receiver with a
// Keel-Signature that verifies with that secret; the deliveries list shows it delivered with the
// receiver's answer. The spec removes the webhook and cancels the change request it made.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { admin, expect, signIn, test, trpcMutation, trpcQuery, uniqueEmail } from "@/e2e/fixtures/test";

type Hit = { signature: string; delivery: string; body: string };

function verify(secret: string, body: string, header: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const want = createHmac("sha256", secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, "hex")) && Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
}

test("[NOTIFY][WEBHOOK]: an approval request reaches a local receiver signed, and the delivery is shown as delivered", async ({
  page,
}) => {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits.push({
        signature: String(req.headers["keel-signature"] ?? ""),
        delivery: String(req.headers["keel-delivery"] ?? ""),
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(202).end("thanks");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/keel`;
  const name = `hook-${Date.now().toString(36)}`;
  let changeId: string | undefined;
  try {
    await signIn(page, admin.email, admin.password, "/settings");
    const form = page.getByRole("form", { name: "Add notification channel" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("URL").fill(url);
    // Only approval requests: other specs' events do not reach this receiver.
    for (const ev of await form.getByRole("group", { name: "Events" }).getByRole("checkbox").all())
      await ev.uncheck();
    await form.getByRole("checkbox", { name: "approval.requested" }).check();
    await form.getByRole("button", { name: "Add webhook" }).click();
    const secret = await page.getByTestId("webhook-secret").inputValue();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    await page
      .getByRole("status", { name: "New webhook secret" })
      .getByRole("button", { name: "Done" })
      .click();
    await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
    const row = page.getByTestId(`channel-row-${name}`);
    await expect(row).toContainText(url);
    await expect(row).toContainText("approval.requested");

    // An approval request: granting the approver role waits for an approver (default policy).
    const email = uniqueEmail("notify-approver");
    const made = await trpcMutation(page.request, "users.create", {
      email,
      name: "Notify Approver",
      roles: ["approver"],
      password: "Notify-approver-pw-2026!",
    });
    expect(made.body?.error?.json.message).toMatch(/Change request \d+ waits for them/);
    const changes = (await trpcQuery(page.request, "policy.changes")).body?.result?.data.json as {
      id: string;
      summary: string;
      state: string;
    }[];
    changeId = changes.find((c) => c.summary.includes(email) && c.state === "pending")?.id;
    expect(changeId).toBeTruthy();

    await expect.poll(() => hits.length, { timeout: 30_000 }).toBe(1);
    const hit = hits[0]!;
    expect(verify(secret, hit.body, hit.signature)).toBe(true);
    expect(verify("whsec_" + "0".repeat(64), hit.body, hit.signature)).toBe(false);
    const payload = JSON.parse(hit.body) as {
      id: string;
      event: string;
      summary: string;
      audit: { action: string; actor: string };
    };
    expect(payload).toMatchObject({
      id: hit.delivery,
      event: "approval.requested",
      audit: { action: "change.request", actor: admin.email },
    });
    expect(payload.summary).toContain(email);

    // The deliveries list (refreshed live) shows it delivered, once, with the receiver's answer.
    const delivery = page
      .getByRole("table", { name: "Notification deliveries" })
      .getByRole("row")
      .filter({ hasText: name });
    await expect(delivery).toHaveCount(1);
    await expect(delivery).toContainText("approval.requested");
    await expect(delivery).toContainText("delivered");
    await expect(delivery.getByRole("cell").nth(4)).toHaveText("1");
    await expect(delivery.getByRole("cell").nth(5)).toHaveText("202");
    await expect(row).toContainText("1 delivered, 0 pending, 0 failed");
  } finally {
    if (changeId) await trpcMutation(page.request, "policy.cancelChange", { id: changeId });
    page.once("dialog", (d) => void d.accept());
    const row = page.getByTestId(`channel-row-${name}`);
    if (await row.count()) {
      await row.getByRole("button", { name: "Remove" }).click();
      await expect(row).toHaveCount(0);
    }
    await new Promise<void>((r) => server.close(() => r()));
  }
});
