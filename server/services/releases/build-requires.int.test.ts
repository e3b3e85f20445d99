// `keel release build … --kind runtime` and `--requires` against the console's real upload handler
// on a btrfs data directory (loop image) and a real database (decision 0023): the requirement is
// signed into the full and the incremental manifest, `keel release show` lists it, and a bad range,
// a requirement on a runtime or a malformed list is refused before anything is built.
import { describe, expect, it } from "vitest";
import { useBuildConsole } from "@/server/test/build-console";

describe("keel release build with requires", () => {
  const { c, keel, tree, verified } = useBuildConsole("keel-build-req-");

  it("signs the requirement into every manifest of the build, and show lists it", async () => {
    expect(
      (await keel("release", "build", tree("rt1"), "--app", "rt", "--version", "1.0", "--kind", "runtime"))
        .code,
    ).toBe(0);
    expect(
      (await keel("release", "build", tree("a1"), "--app", "svc", "--version", "1.0", "--requires", "rt@^1"))
        .code,
    ).toBe(0);
    const r = await keel(
      "release",
      "build",
      tree("a2"),
      "--app",
      "svc",
      "--version",
      "1.1",
      "--requires",
      "rt@>=1.2 <2, other@~3",
    );
    expect(r.code, r.err).toBe(0);
    const row = await c.db.release.findUniqueOrThrow({
      where: { app_version: { app: "svc", version: "1.1" } },
      include: { deltasTo: true },
    });
    const want = [
      { runtime: "rt", versions: ">=1.2 <2" },
      { runtime: "other", versions: "~3" },
    ];
    expect((await verified(row.manifest)).requires).toEqual(want);
    expect((await verified(row.deltasTo[0]!.manifest)).requires).toEqual(want);
    expect(
      (await c.db.release.findUniqueOrThrow({ where: { app_version: { app: "rt", version: "1.0" } } })).kind,
    ).toBe("runtime");
    expect((await keel("release", "show", "svc", "1.1")).out).toContain("requires: rt >=1.2 <2, other ~3");
  });

  it("refuses bad requirements before building anything", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--requires", "rt@newest"],
        /requires\[0\]\.versions: "newest": "newest" is not a range; write =newest for exactly that version/,
      ],
      [["--requires", "rt"], /requires: "rt" must be RUNTIME@RANGE, e\.g\. node@\^20/],
      [["--requires", "Rt@1"], /requires\[0\]\.runtime: runtime name "Rt" does not match/],
      [["--requires", "rt@1, rt@2"], /rt is required twice/],
      [["--kind", "runtime", "--requires", "rt@1"], /only apps require runtimes \(this build is a runtime\)/],
    ];
    for (const [flags, message] of cases) {
      const r = await keel("release", "build", tree("bad"), "--app", "bad", "--version", "1.0", ...flags);
      expect(r.code, flags.join(" ")).not.toBe(0);
      expect(r.err, flags.join(" ")).toMatch(message);
    }
    expect(await c.db.release.count({ where: { app: "bad" } })).toBe(0);
  });
});
