import { describe, expect, it } from "vitest";
import { listedAsSnapshot, parseSubvolumeShow } from "./btrfs";

// `btrfs subvolume show` of an installed parent while the next version is received (btrfs-progs 6.2).
const SHOW = [
  "apps/web/1.9",
  "\tName: \t\t\t1.9",
  "\tUUID: \t\t\tb0b705ce-c6f8-714e-98e1-55b547c9620c",
  "\tParent UUID: \t\t989fab6e-e6fb-0346-96c9-dc8d9f03692f",
  "\tReceived UUID: \t\t-",
  "\tFlags: \t\t\treadonly",
  "\tSnapshot(s):",
  "\t\t\t\t.staging/op1/recv/tree",
  "\t\t\t\tother/snap",
  "\tQuota group:\t\tn/a",
  "",
].join("\n");

describe("btrfs subvolume show", () => {
  it("reads the fields, the path from the top level and the snapshots", () => {
    expect(parseSubvolumeShow(SHOW)).toEqual({
      path: "apps/web/1.9",
      uuid: "b0b705ce-c6f8-714e-98e1-55b547c9620c",
      parentUuid: "989fab6e-e6fb-0346-96c9-dc8d9f03692f",
      receivedUuid: null,
      readOnly: true,
      snapshots: [".staging/op1/recv/tree", "other/snap"],
    });
    expect(parseSubvolumeShow(SHOW.replace(/\tSnapshot[^]*$/, "")).snapshots).toEqual([]);
  });

  it("finds the received tree among the parent's snapshots by its exact path", () => {
    const parent = parseSubvolumeShow(SHOW);
    const p = "/var/lib/keel/apps/web/1.9";
    expect(listedAsSnapshot(parent, p, "/var/lib/keel/.staging/op1/recv/tree")).toBe(true);
    expect(listedAsSnapshot(parent, p, "/var/lib/keel/.staging/op2/recv/tree")).toBe(false);
    expect(listedAsSnapshot(parent, p, "/var/lib/keel/.staging/op1/recv/tre")).toBe(false);
  });

  it("a store below the top level: the parent's listed path gives the prefix", () => {
    const parent = parseSubvolumeShow(
      SHOW.replace("apps/web/1.9", "@/var/lib/keel/apps/web/1.9").replace(
        ".staging/op1/recv/tree",
        "@/var/lib/keel/.staging/op1/recv/tree",
      ),
    );
    const p = "/var/lib/keel/apps/web/1.9";
    expect(listedAsSnapshot(parent, p, "/var/lib/keel/.staging/op1/recv/tree")).toBe(true);
    // The unprefixed path is another place in the file system.
    const bare = { ...parent, snapshots: [".staging/op1/recv/tree"] };
    expect(listedAsSnapshot(bare, p, "/var/lib/keel/.staging/op1/recv/tree")).toBe(false);
  });

  it("cannot tell (null) when the paths do not line up or a name holds a control character", () => {
    const parent = parseSubvolumeShow(SHOW);
    expect(listedAsSnapshot(parent, "/srv/keel/apps/web/2.0", "/srv/keel/.staging/op1/recv/tree")).toBe(null);
    expect(
      listedAsSnapshot(parent, "/var/lib/keel/apps/web/1.9", "/var/lib/keel/.staging/op1/recv/a\nb"),
    ).toBe(null);
  });
});
