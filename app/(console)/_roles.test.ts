import { describe, expect, it } from "vitest";
import { sortRoles } from "./_roles";
import { canUse } from "./_nav";

describe("roles in the shell", () => {
  it("lists roles admin first, whatever order they were stored in", () => {
    expect(sortRoles(["auditor", "operator", "admin"])).toEqual(["admin", "operator", "auditor"]);
  });
  it("marks a section usable only with one of its roles", () => {
    expect(canUse({ roles: ["admin"] }, ["operator"])).toBe(false);
    expect(canUse({ roles: ["admin", "auditor"] }, ["auditor"])).toBe(true);
    expect(canUse({ roles: [] }, [])).toBe(true);
  });
});
