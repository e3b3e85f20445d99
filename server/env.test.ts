import { describe, expect, it } from "vitest";
import { parseEnv, publicOrigin, trustedOrigins } from "./env";

describe("env", () => {
  it("has working defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      KEEL_HOST: "127.0.0.1",
      KEEL_PORT: 3000,
      KEEL_DATA_DIR: ".keel",
      KEEL_ADMIN_EMAIL: "admin@keel.local",
    });
    expect(publicOrigin(env)).toBe("http://127.0.0.1:3000");
    expect(trustedOrigins(env)).toEqual(["http://127.0.0.1:3000", "http://localhost:3000"]);
  });
  it("names every bad variable in one error", () => {
    expect(() => parseEnv({ KEEL_PORT: "99999", DATABASE_URL: "mysql://x", KEEL_SECRET: "short" })).toThrow(
      /KEEL_PORT.*DATABASE_URL.*KEEL_SECRET|DATABASE_URL.*KEEL_SECRET.*KEEL_PORT/,
    );
  });
  it("uses KEEL_URL as the public origin and adds KEEL_TRUSTED_ORIGINS", () => {
    const env = parseEnv({
      KEEL_URL: "https://keel.example.com/",
      KEEL_TRUSTED_ORIGINS: "https://ops.example.com, https://b.example.com/x",
    });
    expect(trustedOrigins(env)).toEqual([
      "https://keel.example.com",
      "https://ops.example.com",
      "https://b.example.com",
    ]);
  });
  it("takes KEEL_FOUNDERS as email:role+role, comma separated, and refuses anything else", () => {
    expect(parseEnv({ KEEL_FOUNDERS: "ana@x.org:approver, ben@y.org:operator+approver" }).KEEL_FOUNDERS).toBe(
      "ana@x.org:approver, ben@y.org:operator+approver",
    );
    expect(() => parseEnv({ KEEL_FOUNDERS: "ana@x.org" })).toThrow(/KEEL_FOUNDERS: must be email:role\+role/);
  });
});
