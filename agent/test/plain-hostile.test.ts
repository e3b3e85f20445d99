// RELIABILITY case 27 on the plain-directory backend: keel-tree-1 streams signed by a trusted but
// hostile builder. Each is refused with an error that names the attempt, through the CLI, `serve`
// and the resident agent; nothing outside `.staging` changes (a sentinel tree beside the store
// keeps its bytes and mtimes; the installed versions keep their digests).
import { symlinkSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReleaseManifest } from "../protocol";
import type { TreeRecord } from "../src/store/tree-stream";
import { walkTree } from "../src/tree-digest";
import {
  agent,
  buildRelease,
  readManifest,
  receiveArgs,
  resign,
  storeArgs,
  storeState,
  testBench,
  writeTree,
  type Built,
  type Scratch,
} from "./helpers";
import { residentSession, serveSession, type AgentSession } from "./sessions";
import { snapshotTree } from "./fuzz/property";

let s: Scratch;
let host: string;
let trusted: string;
let key: string;
let out: string;
let sentinel: string;
let sentinelBefore: string;
const rel: Record<string, Built> = {};

beforeAll(() => {
  let src: string;
  ({ s, key, trusted, out, src } = testBench("plain-hostile"));
  host = s.dir("host");
  // Beside the store: a root-only secret the parent version points at with a symlink.
  sentinel = s.dir("sentinel");
  writeTree(sentinel, { secret: "root only\n", "sub/file": "x\n" });
  chmodSync(join(sentinel, "secret"), 0o600);
  writeTree(src, { "bin/app": "v1\n", "lib/secret": "root only\n" });
  symlinkSync(sentinel, join(src, "up"));
  const build = s.dir("build");
  rel.v1 = buildRelease(build, src, "web", "1", key, out);
  writeTree(src, { "bin/app": "v2\n" });
  rel.v2 = buildRelease(build, src, "web", "2", key, out, "1");
  expect(agent(receiveArgs(S(), rel.v1)).code).toBe(0);
  expect(agent(["activate", ...S(), "web", "1"]).code).toBe(0);
  sentinelBefore = snapshotTree(sentinel);
});

afterAll(() => s?.cleanup());

const S = () => storeArgs(host, trusted);

/** A record, or a header written by hand (raw JSON text) with `data` bytes of content after it. */
type Rec = TreeRecord | { raw: string | Buffer; data?: number };
function tree(records: Rec[]): Buffer {
  const parts = [Buffer.from("KEELTREE", "latin1"), Buffer.from([0, 0, 0, 1])];
  for (const r of records) {
    const h = Buffer.from("raw" in r ? r.raw : JSON.stringify(r));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(h.length);
    parts.push(len, h);
    const n = "raw" in r ? (r.data ?? 0) : r.t === "f" ? r.s : 0;
    parts.push(Buffer.alloc(Math.min(n, 1024), 0x41));
  }
  return Buffer.concat(parts);
}

const root: TreeRecord = { t: "d", p: ".", m: 0o755, u: 0, g: 0, mt: 0 };
const file = (p: string, extra: Partial<Extract<TreeRecord, { t: "f" }>> = {}): TreeRecord => ({
  t: "f",
  p,
  m: 0o644,
  u: 0,
  g: 0,
  mt: 0,
  s: 3,
  ...extra,
});
const end = (files: number, bytes: number): TreeRecord => ({ t: "e", files, bytes });

interface Case {
  name: string;
  records: () => Rec[];
  incremental?: boolean;
  code: string;
  message: RegExp;
}

// The manifest is re-signed over the crafted stream (the builder's key signs anything); its tree
// counts are the stream's own so that only the class under test stands in the way.
const cases: Case[] = [
  {
    name: "setuid root directory",
    records: () => [{ ...root, m: 0o4755 }, end(0, 0)],
    code: "SPECIAL_FILES",
    message: /setuid\/setgid files \(\.\)/,
  },
  {
    name: "setgid root directory",
    records: () => [{ ...root, m: 0o2775 }, end(0, 0)],
    code: "SPECIAL_FILES",
    message: /setuid\/setgid files \(\.\)/,
  },
  {
    name: "setuid file",
    records: () => [root, file("su", { m: 0o4755 }), end(1, 3)],
    code: "SPECIAL_FILES",
    message: /setuid\/setgid files \(su\)/,
  },
  {
    name: "file-type bits in a mode",
    records: () => [root, file("a", { m: 0o104755 }), end(1, 3)],
    code: "BAD_STREAM",
    message: /mode 0o104755: bits outside the permission bits/,
  },
  {
    name: "a mode past 32 bits",
    records: () => [root, file("a", { m: 2 ** 32 + 0o4755 }), end(1, 3)],
    code: "BAD_STREAM",
    message: /bits outside the permission bits/,
  },
  {
    name: "a mode of 2^53",
    records: () => [
      root,
      { raw: `{"t":"f","p":"a","m":9007199254740993,"u":0,"g":0,"mt":0,"s":3}`, data: 3 },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /not written canonically/,
  },
  {
    name: "a fractional mode",
    records: () => [
      root,
      { raw: `{"t":"f","p":"a","m":420.5,"u":0,"g":0,"mt":0,"s":3}`, data: 3 },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /mode 420.5, not an integer/,
  },
  {
    name: "a mode written 420.0",
    records: () => [
      root,
      { raw: `{"t":"f","p":"a","m":420.0,"u":0,"g":0,"mt":0,"s":3}`, data: 3 },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /not written canonically/,
  },
  {
    name: "a key twice",
    records: () => [
      root,
      { raw: `{"t":"f","p":"a","m":420,"u":0,"g":0,"mt":0,"s":3,"m":2541}`, data: 3 },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /not written canonically/,
  },
  {
    name: "uid -1 (chown's keep-root)",
    records: () => [root, file("a", { u: 0xffffffff }), end(1, 3)],
    code: "BAD_STREAM",
    message: /owner uid 4294967295/,
  },
  {
    name: "an xattr key",
    records: () => [
      root,
      {
        raw: `{"t":"f","p":"a","m":493,"u":0,"g":0,"mt":0,"s":3,"x":{"security.capability":"AQAAAg=="}}`,
        data: 3,
      },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /carries "x", which keel-tree-1 does not have \(no xattrs/,
  },
  {
    name: "a write through its own symlink",
    records: () => [root, { t: "l", p: "s", target: "/etc", u: 0, g: 0, mt: 0 }, file("s/pwned"), end(2, 3)],
    code: "BAD_STREAM",
    message: /writes through a symlink \(s → \/etc\) at "s\/pwned"/,
  },
  {
    name: "a directory through its own symlink, two levels down",
    records: () => [
      root,
      { t: "l", p: "s", target: "/etc", u: 0, g: 0, mt: 0 },
      { ...root, p: "s/a/b" },
      end(2, 0),
    ],
    code: "BAD_STREAM",
    message: /writes through a symlink \(s → \/etc\) at "s\/a\/b"/,
  },
  {
    name: "a file under a file",
    records: () => [root, file("a"), file("a/b"), end(2, 6)],
    code: "BAD_STREAM",
    message: /puts "a\/b" under a, which is a file/,
  },
  {
    name: "a NUL in a path",
    records: () => [root, file("a\u0000b"), end(1, 3)],
    code: "BAD_STREAM",
    message: /control character/,
  },
  {
    name: "a newline in a path",
    records: () => [root, file("a\nb"), end(1, 3)],
    code: "BAD_STREAM",
    message: /control character/,
  },
  {
    name: "a lone surrogate in a path",
    records: () => [root, file("a\ud800"), end(1, 3)],
    code: "BAD_STREAM",
    message: /not well-formed UTF-8/,
  },
  {
    name: "invalid UTF-8 in a header",
    records: () => [
      root,
      {
        raw: Buffer.concat([
          Buffer.from(`{"t":"f","p":"a`),
          Buffer.from([0xff]),
          Buffer.from(`","m":420,"u":0,"g":0,"mt":0,"s":3}`),
        ]),
        data: 3,
      },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /not written canonically \(.*invalid UTF-8/,
  },
  {
    name: "a ../ path",
    records: () => [root, file("../escape"), end(1, 3)],
    code: "BAD_STREAM",
    message: /outside the tree/,
  },
  {
    name: "the same file twice",
    records: () => [root, file("a"), file("a"), end(2, 6)],
    code: "BAD_STREAM",
    message: /"a" appears twice/,
  },
  {
    name: "the root twice",
    records: () => [root, root, end(0, 0)],
    code: "BAD_STREAM",
    message: /root "\." appears twice/,
  },
  {
    name: "a 2^53-byte file",
    records: () => [root, file("a", { s: Number.MAX_SAFE_INTEGER }), end(1, 3)],
    code: "BAD_STREAM",
    message: /declares 9007199254740991 bytes of content, but the stream has \d+ bytes left/,
  },
  {
    name: "a hard link to a symlink",
    records: () => [
      root,
      { t: "l", p: "s", target: "/etc/shadow", u: 0, g: 0, mt: 0 },
      { t: "h", p: "x", to: "s" },
      end(2, 0),
    ],
    code: "BAD_STREAM",
    message: /points at "s", which is no earlier regular file/,
  },
  {
    name: "an end record that miscounts",
    records: () => [root, file("a"), end(5, 3)],
    code: "BAD_STREAM",
    message: /end record counts 5 entries and 3 bytes, the stream holds 1 and 3/,
  },
  {
    name: "a null header",
    records: () => [root, { raw: "null" }, end(0, 0)],
    code: "BAD_STREAM",
    message: /not a JSON object/,
  },
  {
    name: "a parent file without a parent",
    records: () => [
      root,
      { t: "P", p: "a", m: 0o644, u: 0, g: 0, mt: 0, s: 3, sha: "0".repeat(64) },
      end(1, 3),
    ],
    code: "BAD_STREAM",
    message: /manifest names none/,
  },
  {
    name: "a parent file through the parent's symlink",
    incremental: true,
    records: () => [
      root,
      { ...root, p: "up" },
      { t: "P", p: "up/secret", m: 0o600, u: 0, g: 0, mt: 0, s: 10, sha: "0".repeat(64) },
      end(2, 10),
    ],
    code: "PARENT_MISMATCH",
    message:
      /links up\/secret from the parent version, but the parent's up is a symlink \(→ \/[^)]*sentinel\), which is never followed/,
  },
  {
    name: "a parent file that is the parent's symlink",
    incremental: true,
    records: () => [
      root,
      { t: "P", p: "up", m: 0o777, u: 0, g: 0, mt: 0, s: 10, sha: "0".repeat(64) },
      end(1, 10),
    ],
    code: "PARENT_MISMATCH",
    message: /links up from the parent version, where it is a symlink, which is never followed/,
  },
];

function signed(
  c: Case,
  i: number,
  via: string,
): { manifest: ReleaseManifest; stream: Buffer; streamPath: string } {
  const stream = tree(c.records());
  const streamPath = join(out, `${via}-${i}.tree`);
  writeFileSync(streamPath, stream);
  const base = readManifest(c.incremental ? rel.v2!.incManifest! : rel.v1!.manifest);
  const endRec = c.records().at(-1) as { t: string; files?: number; bytes?: number };
  const t = endRec.t === "e" ? { files: endRec.files!, bytes: endRec.bytes! } : { files: 1, bytes: 3 };
  const p = resign(
    { ...base, version: `${via}-${i}`, tree: { ...base.tree, ...t } },
    key,
    join(out, `${via}-${i}.json`),
    streamPath,
  );
  return { manifest: readManifest(p), stream, streamPath: streamPath };
}

function untouched(): void {
  expect(storeState(host, "web")).toMatchObject({ current: "1", staging: [], journal: [], versions: ["1"] });
  expect(walkTree(join(host, "apps/web/1"), { withDigest: true }).sha256).toBe(
    readManifest(rel.v1!.manifest).tree.sha256,
  );
  expect(snapshotTree(sentinel)).toBe(sentinelBefore);
  expect(readFileSync(join(sentinel, "secret"), "utf8")).toBe("root only\n");
}

describe("plain store: a hostile builder's keel-tree-1 streams (case 27)", () => {
  it.each(cases.map((c, i) => [c.name, i] as const))("CLI: %s", (_name, i) => {
    const c = cases[i]!;
    const { manifest, streamPath } = signed(c, i, "cli");
    const r = agent(["receive", ...S(), "--manifest", join(out, `cli-${i}.json`), "--stream", streamPath]);
    expect(manifest.version).toBe(`cli-${i}`);
    expect(r.json.error, r.stdout + r.stderr).toMatchObject({ code: c.code });
    expect(r.json.error.message).toMatch(c.message);
    untouched();
  });

  for (const via of ["serve", "resident"] as const) {
    it(`${via}: every case refused the same way`, async () => {
      const session: AgentSession =
        via === "serve" ? await serveSession(S()) : await residentSession(host, trusted);
      try {
        for (const [i, c] of cases.entries()) {
          const { manifest, stream } = signed(c, i, via);
          const a = await session.receive(manifest, stream);
          expect(a.ok, `${c.name}: ${JSON.stringify(a)}`).toBe(false);
          expect(a.error.code, c.name).toBe(c.code);
          expect(a.error.message, c.name).toMatch(c.message);
          untouched();
        }
      } finally {
        await session.close();
      }
    });
  }

  it("the same kinds of trees built honestly still install (parent symlink, hard links, setgid declared)", () => {
    // The incremental release links unchanged files from a parent that holds a symlink out of the tree.
    const r = agent(["receive", ...S(), "--manifest", rel.v2!.incManifest!, "--stream", rel.v2!.incStream!]);
    expect(r.json, r.stdout).toMatchObject({ version: "2", backend: "plain" });
    expect(walkTree(join(host, "apps/web/2"), { withDigest: true }).sha256).toBe(
      readManifest(rel.v2!.incManifest!).tree.sha256,
    );
    expect(agent(["remove", ...S(), "web", "2"]).code).toBe(0);
    untouched();
  });

  it("build refuses a source tree whose names a host would refuse, naming the path", () => {
    const bad = s.dir("src-bad");
    writeTree(bad, { "ok/a\nb": "x\n" });
    const r = agent([
      "build",
      "--store",
      s.dir("build-bad"),
      "--from",
      bad,
      "--app",
      "web",
      "--version",
      "9",
      "--key",
      key,
      "--out",
      out,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.json.error).toMatchObject({ code: "NOT_SUPPORTED", step: "build" });
    expect(r.json.error.message).toMatch(
      /ok\/"a\\nb": a name that contains a control character cannot go into a keel-tree-1 stream/,
    );
  });
});
