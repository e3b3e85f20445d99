// The artifact an approved plan names, checked right before it is sent: the release and delta rows
// are exactly those planned (release id, parent, SHA-256) and the artifact store holds exactly those
// bytes (present, same size, same SHA-256). Any difference fails the host with what is wrong; the
// executor never falls back to another stream (e.g. the full one when a delta is gone). The one
// other thing it may send is the format-2 encoding (decision 0040) that the same, approved delta
// row names: the same signed stream, sent as keel-delta-2 only to an agent that lists it (wire-form.ts).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { PrismaClient } from "@prisma/client";
import { validateManifest, type ReleaseManifest } from "@/agent/protocol";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { PlanArtifact } from "@/server/services/rollouts/types";

export type StreamChoice = {
  manifest: ReleaseManifest;
  digest: string;
  wireEncoding: "raw" | "keel-delta-1";
  full: ReleaseManifest;
  /** The approved delta row's format-2 encoding of the same stream, when it has one and it is smaller. */
  format2: { digest: string; bytes: number } | null;
};

/** What is wrong with the artifact the plan names, or the stream to send. */
export type Loaded = StreamChoice | { problem: string };

export const artifactName = (a: PlanArtifact, version: string) =>
  a.kind === "delta" ? `delta ${a.parent}→${version}` : `full stream of ${version}`;

/**
 * The release and stream rows of exactly the artifact the approved plan names (release id, full or
 * delta from the parent, SHA-256): a release pushed again under the same version, or a delta made
 * again, is other bytes and is refused, never substituted.
 */
export async function loadStream(
  db: PrismaClient,
  app: string,
  version: string,
  a: PlanArtifact,
): Promise<Loaded> {
  const release = await db.release.findUnique({
    where: { id: a.releaseId },
    select: { app: true, version: true, manifest: true, streamDigest: true },
  });
  if (!release || release.app !== app || release.version !== version)
    return {
      problem: `release ${app} ${version} it was approved with is gone from the console (removed, or pushed again as another release)`,
    };
  const full = validateManifest(JSON.parse(release.manifest));
  if (a.kind === "full") {
    if (release.streamDigest !== a.digest) return { problem: `is not the release's stream any more` };
    return { manifest: full, digest: a.digest, wireEncoding: "raw", full, format2: null };
  }
  const d = await db.releaseDelta.findFirst({
    where: { releaseId: a.releaseId, parent: { version: a.parent ?? "" } },
    select: {
      manifest: true,
      streamDigest: true,
      encodedDigest: true,
      encoded2Digest: true,
      encoded2Bytes: true,
    },
  });
  if (!d || (d.encodedDigest ?? d.streamDigest) !== a.digest)
    return { problem: "is gone from the artifact store" };
  return {
    manifest: validateManifest(JSON.parse(d.manifest)),
    digest: a.digest,
    wireEncoding: a.encoding,
    full,
    // Only when it is smaller: on a tiny change format 2 can be a few bytes larger (decision 0040).
    format2:
      a.encoding === "keel-delta-1" &&
      d.encodedDigest === a.digest &&
      d.encoded2Digest &&
      Number(d.encoded2Bytes) < a.bytes
        ? { digest: d.encoded2Digest, bytes: Number(d.encoded2Bytes) }
        : null,
  };
}

/** SHA-256 of a local blob, computed once per file version (size, mtime, inode) in this process. */
const hashes = new Map<string, Promise<string>>();
async function sha256Of(path: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}:${st.ino}`;
  let p = hashes.get(key);
  if (!p) {
    p = (async () => {
      const h = createHash("sha256");
      for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
      return h.digest("hex");
    })();
    p.catch(() => hashes.delete(key));
    if (hashes.size > 256) hashes.delete(hashes.keys().next().value!);
    hashes.set(key, p);
  }
  return p;
}

/** The artifact store holds exactly the approved bytes (present, same size, same SHA-256); else the problem. */
export async function checkStored(
  store: ArtifactStore,
  a: Pick<PlanArtifact, "digest" | "bytes">,
): Promise<{ path: string } | { problem: string }> {
  const st = await store.stat(a.digest);
  if (!st) return { problem: "is gone from the artifact store" };
  if (st.bytes !== a.bytes)
    return { problem: `has ${st.bytes} bytes in the artifact store where the plan approved ${a.bytes}` };
  const path = store.localPath(a.digest);
  if (!path) return { problem: "has no local file in the artifact store to send" };
  const actual = await sha256Of(path);
  if (actual !== a.digest)
    return {
      problem: `in the artifact store no longer has the approved SHA-256 (${a.digest.slice(0, 12)}…, found ${actual.slice(0, 12)}…)`,
    };
  return { path };
}

/**
 * The stored file of the stream's format-2 delta, checked like the approved artifact when asked
 * (only for an agent that lists keel-delta-2); null when the row has none or the store does not
 * hold exactly its bytes, and the approved format-1 delta is sent instead.
 */
export function format2Of(store: ArtifactStore, s: StreamChoice): (() => Promise<string | null>) | undefined {
  const f = s.format2;
  if (!f) return undefined;
  return async () => {
    const stored = await checkStored(store, f);
    return "problem" in stored ? null : stored.path;
  };
}
