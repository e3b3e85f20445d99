// Real btrfs: two versions of a published npm package as subvolumes, the incremental stream
// delta-encoded against the console's parent, decoded on a host's own copy of the parent, and
// received. Needs root (loop image) and the npm registry (npm pack, cached in the temp dir).
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDelta } from "./encode";
import {
  btrfsLoop,
  buildVersionPair,
  bundleDecoder,
  decodeInChild,
  fetchPackage,
  run,
} from "./test-fixtures";

describe("delta over real btrfs send -p streams", () => {
  let work: string;
  let loop: Awaited<ReturnType<typeof btrfsLoop>>;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "keel-delta-int-"));
    loop = await btrfsLoop(work, 1);
  });
  afterAll(async () => {
    await loop?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("decodes on the host to the exact signed stream, which btrfs receive applies", async () => {
    const cache = process.env.KEEL_BENCH_CACHE ?? join(tmpdir(), "keel-bench-cache");
    const oldTree = join(work, "src", "old");
    const newTree = join(work, "src", "new");
    await fetchPackage("semver", "7.6.2", cache, oldTree);
    await fetchPackage("semver", "7.6.3", cache, newTree);
    const { mnt } = loop;
    await buildVersionPair(mnt, oldTree, newTree, "semver-7.6.2", "semver-7.6.3");

    const inc = join(work, "inc.stream");
    await run("btrfs", ["send", "-q", "-p", join(mnt, "semver-7.6.2"), "-f", inc, join(mnt, "semver-7.6.3")]);

    // The host got the old version earlier from its full stream.
    const host = join(mnt, "host");
    await mkdir(host);
    const oldFull = join(work, "old.stream");
    await run("btrfs", ["send", "-q", "-f", oldFull, join(mnt, "semver-7.6.2")]);
    await run("btrfs", ["receive", "-q", "-f", oldFull, host]);

    const deltaFile = join(work, "inc.delta");
    const ws = createWriteStream(deltaFile);
    const enc = await encodeDelta({ parentDir: join(mnt, "semver-7.6.2"), target: inc, out: ws });
    ws.end();
    await once(ws, "close");
    const incBytes = (await stat(inc)).size;
    expect(enc.targetBytes).toBe(incBytes);
    expect(enc.parentFiles).toBeGreaterThan(0);
    expect(enc.bytes).toBeLessThan(incBytes / 5);

    const bundle = join(work, "decode.mjs");
    await bundleDecoder(bundle);
    const decoded = join(work, "decoded.stream");
    const r = await decodeInChild(bundle, join(host, "semver-7.6.2"), deltaFile, decoded);
    expect(r.error).toBeUndefined();
    expect(r.sha256).toBe(enc.targetSha256);
    expect((await readFile(decoded)).equals(await readFile(inc))).toBe(true);

    await run("btrfs", ["receive", "-q", "-f", decoded, host]);
    await run("diff", ["-r", "-q", newTree, join(host, "semver-7.6.3")]);
    expect((await run("btrfs", ["property", "get", "-ts", join(host, "semver-7.6.3"), "ro"])).trim()).toBe(
      "ro=true",
    );
  });

  it("refuses a host whose parent subvolume holds other content, writing nothing", async () => {
    const { mnt } = loop;
    // A parent that differs: the console's old version, but the host received a newer one under that name.
    const other = join(mnt, "other-host");
    await mkdir(other);
    const full = join(work, "new.stream");
    await run("btrfs", ["send", "-q", "-f", full, join(mnt, "semver-7.6.3")]);
    await run("btrfs", ["receive", "-q", "-f", full, other]);
    const deltaFile = join(work, "inc.delta");
    const out = join(work, "refused.stream");
    const r = await decodeInChild(join(work, "decode.mjs"), join(other, "semver-7.6.3"), deltaFile, out);
    expect(r.error).toBe("PARENT_MISMATCH");
    expect(r.message).toMatch(/parent file .* (differs|has \d+ bytes)/);
    expect((await stat(out).catch(() => ({ size: 0 }))).size).toBe(0);
  });
});
