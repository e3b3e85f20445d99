// The browser's folder upload is a tar GNU tar (what the console unpacks with) reads back exactly:
// contents, nested and very long paths, program files executable, nothing outside the tree.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { filesOfFolderInput, folderTar } from "./folder-tar";

const dir = mkdtempSync(join(tmpdir(), "keel-folder-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("folderTar", () => {
  it("is read back by GNU tar with the same files, long paths and program modes", async () => {
    const long =
      Array.from({ length: 6 }, (_, i) => `directory-number-${i}-${"x".repeat(40)}`).join("/") + "/deep.txt";
    const big = new Uint8Array(70_000).map((_, i) => i % 251);
    const tar = await folderTar([
      { path: "bin/run", file: new Blob(["#!/bin/sh\necho hi\n"]) },
      { path: "bin/tool", file: new Blob([new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])]) },
      { path: "share/data.bin", file: new Blob([big]) },
      { path: "README", file: new Blob(["hello\n"]) },
      { path: "empty", file: new Blob([]) },
      { path: long, file: new Blob(["deep\n"]) },
    ]);
    expect(tar.size % 512).toBe(0);
    const file = join(dir, "t.tar");
    writeFileSync(file, Buffer.from(await tar.arrayBuffer()));
    const out = join(dir, "out");
    execFileSync("mkdir", ["-p", out]);
    execFileSync("tar", ["-x", "-f", file, "-C", out]);
    expect(readFileSync(join(out, "bin/run"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(statSync(join(out, "bin/run")).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, "bin/tool")).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, "README")).mode & 0o777).toBe(0o644);
    expect(Buffer.compare(readFileSync(join(out, "share/data.bin")), Buffer.from(big))).toBe(0);
    expect(statSync(join(out, "empty")).size).toBe(0);
    expect(readFileSync(join(out, long), "utf8")).toBe("deep\n");
    const listed = execFileSync("tar", ["-t", "-f", file]).toString().trim().split("\n");
    expect(listed).not.toContain(expect.stringMatching(/PaxHeaders/));
    expect(listed.every((p) => !p.startsWith("/") && !p.split("/").includes(".."))).toBe(true);
  });

  it("refuses paths that are not plain and relative, and strips the chosen folder's name", async () => {
    await expect(folderTar([{ path: "../etc/passwd", file: new Blob(["x"]) }])).rejects.toThrow(
      /not a plain relative path/,
    );
    await expect(folderTar([{ path: "/abs", file: new Blob(["x"]) }])).rejects.toThrow(
      /not a plain relative path/,
    );
    const f = Object.assign(new File(["x"], "a.txt"), { webkitRelativePath: "site/sub/a.txt" });
    expect(filesOfFolderInput([f])[0]!.path).toBe("sub/a.txt");
  });
});
