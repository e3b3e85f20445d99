import { describe, expect, it } from "vitest";
import { safeNext } from "./safe-next";

describe("safeNext", () => {
  it("keeps paths on this site, with their query and fragment", () => {
    expect(safeNext("/users?x=1")).toBe("/users?x=1");
    expect(safeNext(["/audit", "/users"])).toBe("/audit");
    expect(safeNext("/hosts?q=web%201#top")).toBe("/hosts?q=web%201#top");
    expect(safeNext("/hosts?q=a b")).toBe("/hosts?q=a%20b");
    expect(safeNext("/rollouts/42")).toBe("/rollouts/42");
  });

  // Each of these leaves the console, or loops back to sign-in, in at least one browser.
  const hostile: [string, string | undefined][] = [
    ["nothing", undefined],
    ["empty", ""],
    ["absolute URL", "https://evil.example/"],
    ["scheme-relative", "//evil.example"],
    ["backslash", "/\\evil.example"],
    ["backslash, encoded", "/%5Cevil.example"],
    ["two backslashes", "\\\\evil.example"],
    ["relative path", "users"],
    ["tab after the slash (decoded by Next)", "/\t/evil.example"],
    ["tab, still encoded", "/%09/evil.example"],
    ["newline", "/\n/evil.example"],
    ["carriage return, encoded", "/%0d/evil.example"],
    ["NUL", "/\u0000/evil.example"],
    ["space before the slash", " //evil.example"],
    ["leading tab", "\t//evil.example"],
    ["non-breaking space", "/\u00a0/evil.example"],
    ["zero-width space", "/\u200b/evil.example"],
    ["encoded second slash", "/%2Fevil.example"],
    ["double-encoded slash", "/%252Fevil.example"],
    ["double-encoded tab", "/%2509/evil.example"],
    ["javascript: scheme", "javascript:alert(1)"],
    ["javascript: after a slash, encoded", "%2Fjavascript:alert(1)"],
    ["data: scheme", "data:text/html,<script>alert(1)</script>"],
    ["scheme with a path", "https:/evil.example"],
    ["malformed escape", "/%E0%A4%A"],
    ["sign-in loop", "/sign-in?next=/x"],
    ["sign-in loop, via dot segments", "/a/../sign-in"],
    ["sign-in loop, encoded", "/%73ign-in"],
    ["very long", `/${"a".repeat(5000)}`],
  ];
  it.each(hostile)("refuses %s → /", (_what, bad) => {
    expect(safeNext(bad)).toBe("/");
  });

  it("never returns anything a browser would read as another origin", () => {
    for (const [, bad] of hostile) {
      const out = safeNext(bad);
      const u = new URL(out.replace(/[\t\n\r]/g, ""), "https://console.example");
      expect(u.origin).toBe("https://console.example");
    }
  });
});
