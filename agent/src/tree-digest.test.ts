import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { walkTree } from "./tree-digest";

const dir = mkdtempSync(join(tmpdir(), "keel-digest-"));
writeFileSync(join(dir, "f"), "hello\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const walk = (xattrs?: Map<string, [string, Buffer][]>, manifestVersion: 1 | 2 = 2) =>
  walkTree(dir, { withDigest: true, meta: true, manifestVersion, xattrs });

describe("tree digest", () => {
  it("version 2 covers every xattr of every inode, the root included, in both digests", () => {
    const none = walk();
    const onRoot = walk(new Map([["", [["user.a", Buffer.from("1")]]]]));
    const onFile = walk(new Map([["f", [["user.a", Buffer.from("1")]]]]));
    const otherValue = walk(new Map([["f", [["user.a", Buffer.from("2")]]]]));
    const digests = [none, onRoot, onFile, otherValue];
    expect(new Set(digests.map((d) => d.sha256)).size).toBe(4);
    expect(new Set(digests.map((d) => d.metaSha256)).size).toBe(4);
  });

  it("the order xattrs were read in does not matter", () => {
    const a = walk(
      new Map([
        [
          "f",
          [
            ["user.b", Buffer.from("2")],
            ["user.a", Buffer.from("1")],
          ],
        ],
      ]),
    );
    const b = walk(
      new Map([
        [
          "f",
          [
            ["user.a", Buffer.from("1")],
            ["user.b", Buffer.from("2")],
          ],
        ],
      ]),
    );
    expect(a.sha256).toBe(b.sha256);
  });

  it("leaves out the labels a host's security module sets by itself", () => {
    expect(
      walk(new Map([["f", [["security.selinux", Buffer.from("system_u:object_r:bin_t:s0\0")]]]])).metaSha256,
    ).toBe(walk().metaSha256);
    expect(walk(new Map([["f", [["security.capability", Buffer.alloc(20)]]]])).metaSha256).not.toBe(
      walk().metaSha256,
    );
  });

  it("the meta digest does not read contents; the full one does", () => {
    const before = walk();
    writeFileSync(join(dir, "f"), "HELLO\n");
    const after = walk();
    expect(after.metaSha256).toBe(before.metaSha256);
    expect(after.sha256).not.toBe(before.sha256);
  });

  it("version 1 is the digest it always was (no xattrs, no meta digest)", () => {
    const v1 = walk(new Map([["f", [["user.a", Buffer.from("1")]]]]), 1);
    expect(v1.sha256).toBe(walk(undefined, 1).sha256);
    expect(v1.metaSha256).toBeUndefined();
  });
});
