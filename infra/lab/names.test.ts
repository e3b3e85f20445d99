import { describe, expect, it } from "vitest";
import { bridgeAddress, hostAddress } from "./host";
import { assertLabName, hostPaths, labPaths, parseHostRef } from "./names";

describe("lab names", () => {
  it("refuses lab names that could escape a path, a regex or an interface name", () => {
    for (const bad of ["", "A", "-x", "x-", "a--b", "a/b", "..", "a b", "a$b", "x".repeat(21), "1abc"]) {
      expect(() => assertLabName(bad), bad).toThrow(/invalid lab name/);
    }
    for (const good of ["a", "lab", "ssh-5bc46a", "x".repeat(20)])
      expect(() => assertLabName(good)).not.toThrow();
  });

  it("keeps interface names within the kernel's 15 characters and distinct between labs", () => {
    const a = labPaths("x".repeat(20));
    const b = labPaths("y".repeat(20));
    expect(hostPaths(a, 9999).veth.length).toBeLessThanOrEqual(15);
    expect(a.bridge.length).toBeLessThanOrEqual(15);
    expect(a.bridge).not.toBe(b.bridge);
    expect(hostPaths(a, 1).veth).not.toBe(hostPaths(b, 1).veth);
  });

  it("accepts a host by full name or number, and nothing else", () => {
    expect(parseHostRef("lab", "lab-h007")).toBe(7);
    expect(parseHostRef("lab", "h7")).toBe(7);
    expect(parseHostRef("lab", "100")).toBe(100);
    for (const bad of ["other-h001", "h0", "h", "lab-h1; rm -rf /", "../h1"])
      expect(() => parseHostRef("lab", bad), bad).toThrow();
  });

  it("gives every host a distinct address that is neither the bridge nor a .0/.255", () => {
    const all = Array.from({ length: 9999 }, (_, i) => hostAddress(77, i + 1));
    expect(new Set([...all, bridgeAddress(77)]).size).toBe(10000);
    const bad = all.filter((a) => !/^10\.77\.\d+\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|250)$/.test(a));
    expect(bad).toEqual([]);
  });
});
