// The artifact store: content-addressed blobs (release streams, incremental streams, encoded
// deltas) named by their SHA-256. One small interface so that an S3-compatible backend can sit
// behind it later; the disk backend keeps files under <dataDir>/artifacts/sha256/ab/cdef….
// Which blobs are still needed is decided in release-artifacts.ts (reference counting).
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, link, unlink, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

export type ArtifactSource = Readable | AsyncIterable<Uint8Array> | Uint8Array;
export type PutResult = { digest: string; bytes: number };

export interface ArtifactStore {
  /** Stores the bytes and returns their SHA-256 (hex) and length; storing known bytes again is a no-op. */
  put(source: ArtifactSource): Promise<PutResult>;
  /** Stores a local file (moving it into place when `move`; the disk backend then avoids a copy). */
  putFile(path: string, opts?: { move?: boolean }): Promise<PutResult>;
  /** Reads a blob, or a byte range of it (`end` inclusive, like fs.createReadStream). */
  open(digest: string, range?: { start?: number; end?: number }): Promise<Readable>;
  stat(digest: string): Promise<{ bytes: number } | null>;
  delete(digest: string): Promise<void>;
  /** A local path of the blob when the backend has one (for `btrfs receive -f`), else null. */
  localPath(digest: string): string | null;
}

const DIGEST = /^[0-9a-f]{64}$/;

export function assertDigest(digest: string): void {
  if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
}

/** Disk backend. Writes go to a temporary file in the store (same file system), then are renamed. */
export function createDiskArtifactStore(opts: { dataDir: string }): ArtifactStore {
  const root = join(opts.dataDir, "artifacts", "sha256");
  const tmp = join(opts.dataDir, "artifacts", "tmp");
  const pathOf = (d: string) => {
    assertDigest(d);
    return join(root, d.slice(0, 2), d.slice(2));
  };

  async function place(tmpPath: string, digest: string): Promise<void> {
    const dest = pathOf(digest);
    await mkdir(join(root, digest.slice(0, 2)), { recursive: true });
    // Same digest ⇒ same bytes: if the blob is there already keep it and drop ours. Linking
    // (not renaming) never replaces a file another reader has open.
    try {
      await link(tmpPath, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    await unlink(tmpPath);
  }

  async function fsyncFile(path: string): Promise<void> {
    const fh = await open(path, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  const store: ArtifactStore = {
    async put(source) {
      await mkdir(tmp, { recursive: true });
      const tmpPath = join(tmp, `put-${randomBytes(8).toString("hex")}`);
      const hash = createHash("sha256");
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      const input = source instanceof Uint8Array ? Readable.from([source]) : Readable.from(source);
      try {
        await pipeline(input, counter, createWriteStream(tmpPath, { flags: "wx", mode: 0o640 }));
        await fsyncFile(tmpPath);
        const digest = hash.digest("hex");
        await place(tmpPath, digest);
        return { digest, bytes };
      } catch (e) {
        await rm(tmpPath, { force: true });
        throw e;
      }
    },
    async putFile(path, o = {}) {
      if (!o.move) return store.put(createReadStream(path));
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of createReadStream(path)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      const digest = hash.digest("hex");
      await mkdir(tmp, { recursive: true });
      const tmpPath = join(tmp, `mv-${randomBytes(8).toString("hex")}`);
      try {
        await rename(path, tmpPath);
      } catch (e) {
        // Another file system: fall back to a copy.
        if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
        const r = await store.put(createReadStream(path));
        await rm(path, { force: true });
        return r;
      }
      await fsyncFile(tmpPath);
      await place(tmpPath, digest);
      return { digest, bytes };
    },
    async open(digest, range) {
      const p = pathOf(digest);
      const fh = await open(p, "r"); // throws ENOENT now rather than on the first read
      return fh.createReadStream({ start: range?.start, end: range?.end });
    },
    async stat(digest) {
      try {
        const s = await stat(pathOf(digest));
        return { bytes: s.size };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },
    async delete(digest) {
      const path = pathOf(digest);
      await rm(path, { force: true });
      // The compressed wire forms made from this blob (server/ssh/wire-form.ts) go with it.
      const wire = join(dirname(path), ".wire");
      const mine = (await readdir(wire).catch(() => [] as string[])).filter((f) =>
        f.startsWith(basename(path) + "."),
      );
      await Promise.all(mine.map((f) => rm(join(wire, f), { force: true })));
    },
    localPath(digest) {
      return pathOf(digest);
    },
  };
  return store;
}
