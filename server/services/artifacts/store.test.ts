import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDiskArtifactStore, type ArtifactStore } from "./store";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

// Writes are fsynced; on a busy machine that takes seconds.
describe("disk artifact store", { timeout: 30_000 }, () => {
  let dir: string;
  let store: ArtifactStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keel-artifacts-"));
    store = createDiskArtifactStore({ dataDir: dir });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("stores a stream under its sha256 and reads it back, whole and by range", async () => {
    const data = Buffer.alloc(300_000, 7);
    data.write("hello", 1000);
    const r = await store.put(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]));
    expect(r).toEqual({ digest: sha(data), bytes: data.length });
    expect(existsSync(join(dir, "artifacts", "sha256", r.digest.slice(0, 2), r.digest.slice(2)))).toBe(true);
    expect(await readAll(await store.open(r.digest))).toEqual(data);
    expect((await readAll(await store.open(r.digest, { start: 1000, end: 1004 }))).toString()).toBe("hello");
    expect(await store.stat(r.digest)).toEqual({ bytes: data.length });
  });

  it("storing the same bytes twice keeps one blob; delete removes it", async () => {
    const a = await store.put(Buffer.from("same"));
    const b = await store.put(Buffer.from("same"));
    expect(a.digest).toBe(b.digest);
    expect(readdirSync(join(dir, "artifacts", "tmp"))).toEqual([]);
    // A compressed wire form of the blob (and one of another blob) in the transport cache.
    const wire = join(dir, "artifacts", "sha256", a.digest.slice(0, 2), ".wire");
    mkdirSync(wire, { recursive: true });
    writeFileSync(join(wire, `${a.digest.slice(2)}.4.1.kz1`), "z");
    writeFileSync(join(wire, `${"f".repeat(62)}.4.1.kz1`), "z");
    await store.delete(a.digest);
    expect(await store.stat(a.digest)).toBeNull();
    expect(readdirSync(wire)).toEqual([`${"f".repeat(62)}.4.1.kz1`]);
    await expect(store.open(a.digest)).rejects.toThrow(/ENOENT/);
  });

  it("moves a local file into place", async () => {
    const f = join(dir, "stream.bin");
    writeFileSync(f, "stream bytes");
    const r = await store.putFile(f, { move: true });
    expect(existsSync(f)).toBe(false);
    expect((await readAll(await store.open(r.digest))).toString()).toBe("stream bytes");
  });

  it("refuses names that are not digests", async () => {
    await expect(store.stat("../../etc/passwd")).rejects.toThrow(/not a sha256 digest/);
  });
});
