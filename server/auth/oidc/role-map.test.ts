import { describe, expect, it } from "vitest";
import { formatRoleMap, groupsOf, mappedRoles, parseRoleMap, rolesForGroups } from "./role-map";

describe("role map", () => {
  it("parses, formats and maps groups to roles", () => {
    const map = parseRoleMap(" keel-admins:admin , keel-ops:operator+approver\n/audit:auditor");
    expect(map).toEqual([
      { group: "keel-admins", roles: ["admin"] },
      { group: "keel-ops", roles: ["operator", "approver"] },
      { group: "/audit", roles: ["auditor"] },
    ]);
    expect(formatRoleMap(map.slice(0, 2))).toBe("keel-admins:admin,keel-ops:operator+approver");
    expect(rolesForGroups(["keel-ops", "other"], map)).toEqual(["operator", "approver"]);
    expect(rolesForGroups([], map)).toEqual([]);
    expect(mappedRoles(map.slice(0, 2))).toEqual(["admin", "operator", "approver"]);
  });
  it("names the bad entry", () => {
    expect(() => parseRoleMap("ops:root")).toThrow(/"ops:root".*"root" is not one/);
    expect(() => parseRoleMap(":admin")).toThrow(/":admin"/);
  });
  it("reads a group claim that is a list or a single string", () => {
    expect(groupsOf({ groups: ["a", 1, "b"] }, "groups")).toEqual(["a", "b"]);
    expect(groupsOf({ roles: "a" }, "roles")).toEqual(["a"]);
    expect(groupsOf({}, "groups")).toEqual([]);
  });
});
