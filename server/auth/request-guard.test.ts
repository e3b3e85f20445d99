import { describe, expect, it } from "vitest";
import { clientIp, refuseCrossSiteWrite } from "./request-guard";

const O = "http://127.0.0.1:3000";
const post = (headers: Record<string, string>) =>
  new Request(`${O}/api/trpc/users.create`, { method: "POST", headers, body: "{}" });
const guard = (r: Request, hasToken = false) =>
  refuseCrossSiteWrite(r, { trustedOrigins: [O], hasToken })?.status ?? 200;

describe("refuseCrossSiteWrite", () => {
  it("lets same-origin JSON posts and reads through", () => {
    expect(guard(post({ "content-type": "application/json", origin: O }))).toBe(200);
    expect(guard(post({ "content-type": "application/json; charset=utf-8", origin: O }))).toBe(200);
    expect(guard(new Request(`${O}/api/trpc/me.whoami`))).toBe(200);
  });
  it("refuses what an HTML form on another site can send", () => {
    for (const ct of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "",
    ])
      expect(guard(post(ct ? { "content-type": ct, origin: O } : { origin: O })), ct).toBe(415);
  });
  it("refuses JSON from another origin or with no origin, unless an API token is presented", () => {
    expect(guard(post({ "content-type": "application/json", origin: "http://evil.example" }))).toBe(403);
    expect(guard(post({ "content-type": "application/json" }))).toBe(403);
    expect(guard(post({ "content-type": "application/json" }), true)).toBe(200);
    expect(guard(post({ "content-type": "text/plain" }), true)).toBe(415);
  });
  it("refuses other methods", () => {
    expect(
      guard(
        new Request(`${O}/api/trpc/x`, {
          method: "PUT",
          body: "{}",
          headers: { "content-type": "application/json", origin: O },
        }),
      ),
    ).toBe(405);
  });
});

describe("clientIp", () => {
  it("uses Keel's server header, and X-Forwarded-For only when the proxy is trusted", () => {
    const h = new Headers({ "x-keel-client-ip": "10.0.0.1", "x-forwarded-for": "1.2.3.4, 10.9.9.9" });
    expect(clientIp(h)).toBe("10.0.0.1");
    expect(clientIp(h, true)).toBe("10.9.9.9");
    expect(clientIp(new Headers())).toBe("unknown");
  });
});
