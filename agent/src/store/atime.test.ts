// Finding the mount that holds a build store (decision 0030), from /proc/self/mountinfo's text.
import { describe, expect, it } from "vitest";
import { ensureNoatime, mountOf } from "./atime";

const info = [
  "21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "30 21 0:40 / /var/lib/keel rw,noatime shared:2 - btrfs /dev/loop0 rw",
  "31 21 0:41 / /var/lib/keel\\040data rw,relatime shared:3 - btrfs /dev/loop1 rw",
].join("\n");

describe("mountOf", () => {
  const at = (p: string) => mountOf(p, info, (x) => x);
  it("picks the longest mount point on the path, with its per-mount options (escapes decoded)", () => {
    expect(at("/var/lib/keel/subvolumes")).toEqual({ target: "/var/lib/keel", options: ["rw", "noatime"] });
    expect(at("/var/lib/keel data/subvolumes")).toEqual({
      target: "/var/lib/keel data",
      options: ["rw", "relatime"],
    });
    expect(at("/var/lib/keelx")).toEqual({ target: "/", options: ["rw", "relatime"] });
    expect(at("/")).toEqual({ target: "/", options: ["rw", "relatime"] });
  });
});

describe("ensureNoatime", () => {
  const read = (p: string) => mountOf(p, info, (x) => x);
  it("leaves a noatime store alone and refuses a store on a relatime root instead of remounting /", () => {
    expect(ensureNoatime("/var/lib/keel/build", read)).toBe("noatime");
    expect(() => ensureNoatime("/srv/keel-build", read)).toThrow(
      /on the root file system, mounted relatime.*does not remount \/ itself/,
    );
  });
});
