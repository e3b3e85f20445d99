import { describe, expect, it } from "vitest";
import { safeNext } from "./safe-next";

describe("safeNext", () => {
  it("keeps paths on this site", () => {
    expect(safeNext("/users?x=1")).toBe("/users?x=1");
    expect(safeNext(["/audit", "/users"])).toBe("/audit");
  });
  it("refuses other origins and loops back to sign-in", () => {
    for (const bad of [undefined, "", "https://evil.example/", "//evil.example", "/\\evil.example", "users", "/sign-in?next=/x"]) {
      expect(safeNext(bad)).toBe("/");
    }
  });
});
