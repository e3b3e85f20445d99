import { describe, expect, it } from "vitest";
import { signBody, verifySignature } from "./sign";

describe("webhook signature", () => {
  const body = '{"event":"rollout.finished"}';
  it("is t=<unix>,v1=<hex HMAC-SHA256 of t.body> (the value openssl dgst -sha256 -hmac gives)", () => {
    expect(signBody("s3cret", body, 1_700_000_000)).toBe(
      "t=1700000000,v1=80f07a14ea268c4592122cbb6ccc291249105979ab8648531c28555efdc1196d",
    );
  });
  it("verifies a fresh signature and refuses another secret, another body, an old timestamp", () => {
    const now = 1_700_000_000;
    const h = signBody("s3cret", body, now);
    expect(verifySignature("s3cret", body, h, { now })).toBe(true);
    expect(verifySignature("other", body, h, { now })).toBe(false);
    expect(verifySignature("s3cret", body + " ", h, { now })).toBe(false);
    expect(verifySignature("s3cret", body, h, { now: now + 301 })).toBe(false);
    expect(verifySignature("s3cret", body, "v1=abc", { now })).toBe(false);
  });
});
