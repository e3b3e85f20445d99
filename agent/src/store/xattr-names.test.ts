import { describe, expect, it } from "vitest";
import { XattrRefused, classifyXattr, describeCapability } from "./xattr-names";

const raw = (s: string) => Buffer.from(s, "latin1");

describe("classifyXattr", () => {
  it.each([
    ["user.mime_type", "user"],
    ["security.capability", "capability"],
    ["security.selinux", "privileged"],
    ["trusted.overlay.opaque", "privileged"],
    ["system.posix_acl_access", "privileged"],
    ["system.posix_acl_default", "privileged"],
  ])("%s is %s", (name, kind) => expect(classifyXattr(raw(name)).kind).toBe(kind));

  it.each([
    ["security.capability\0", /control byte 0x00 \(security\.capability\\x00\)/],
    ["user.a\nb", /control byte 0x0a/],
    ["user.\x7f", /control byte 0x7f/],
    ["user.\xff", /not valid UTF-8 \(user\.\\xff\)/],
    ["", /empty/],
    ["user.", /outside the namespaces/],
    ["btrfs.compression", /outside the namespaces/],
    ["system.nfs4_acl", /outside the namespaces/],
    ["security", /outside the namespaces/],
    ["capability", /outside the namespaces/],
    [`user.${"a".repeat(251)}`, /256 bytes \(limit 255\)/],
  ])("refuses %j", (name, message) => {
    expect(() => classifyXattr(raw(name))).toThrow(XattrRefused);
    expect(() => classifyXattr(raw(name))).toThrow(message);
  });
});

describe("describeCapability", () => {
  it("names the capabilities of a vfs_cap_data value, both 32-bit halves", () => {
    const v = Buffer.alloc(20);
    v.writeUInt32LE(0x02000001, 0);
    v.writeUInt32LE((1 << 7) | (1 << 10), 4);
    v.writeUInt32LE(1 << (38 - 32), 12); // cap_perfmon, in the high half
    expect(describeCapability(v)).toBe("cap_setuid,cap_net_bind_service,cap_perfmon+pe");
  });
});
