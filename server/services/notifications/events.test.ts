import { describe, expect, it } from "vitest";
import { eventOf } from "./events";
import { isPrivateAddress, parseWebhookUrl } from "./webhook-url";

describe("which audit entries are notifications", () => {
  it.each([
    [{ action: "rollout.create", detail: { decision: { effect: "needs_approval" } } }, "approval.requested"],
    [{ action: "rollout.create", detail: { decision: { effect: "allow" } } }, null],
    [{ action: "change.request" }, "approval.requested"],
    [{ action: "rollout.approve" }, "approval.given"],
    [{ action: "policy.approve" }, "approval.given"],
    [{ action: "rollout.reject" }, null],
    [{ action: "rollout.pause" }, "rollout.paused"],
    [{ action: "rollout.finish", detail: { state: "succeeded" } }, "rollout.finished"],
    [{ action: "rollout.finish", detail: { state: "finished_with_failures" } }, "rollout.failed"],
    [{ action: "host.key_changed" }, "host.key_changed"],
    [{ action: "policy.propose" }, "policy.proposed"],
    [{ action: "policy.activate" }, null],
    [{ action: "rollout.host_step" }, null],
    [{ action: "notification.delivered" }, null],
  ])("%o → %s", (entry, event) => expect(eventOf(entry)).toBe(event));
});

describe("webhook URLs", () => {
  it("only http and https, no credentials", () => {
    expect(parseWebhookUrl("https://hooks.example.com/x").host).toBe("hooks.example.com");
    expect(() => parseWebhookUrl("gopher://x")).toThrow(/must be http or https, not gopher/);
    expect(() => parseWebhookUrl("https://u:p@x.example")).toThrow(/no user or password/);
    expect(() => parseWebhookUrl("not a url")).toThrow(/is not a URL/);
  });
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
  ])("%s is private", (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each(["93.184.216.34", "172.32.0.1", "2606:4700::1111"])("%s is public", (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );
});
