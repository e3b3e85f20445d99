import { Readable } from "node:stream";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { Prisma } from "@prisma/client";
import { checkManifestSignature, formatManifest, type ReleaseManifest } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { retainArtifactFile } from "@/server/services/artifacts/artifact-refs";
import { listKeysAcceptedForPush } from "@/server/services/keys/list-trusted-public-keys";
import type { ReleaseDeps } from "./deps";
import { dropSubvolume, keepsSubvolumes, materializeRelease } from "./materialize-release";
import { manifestColumns, parseManifest } from "./parse-manifest";
import { receiveStreamToFile, StreamTooLongError } from "./receive-stream";

export type PushResult = { status: "created" | "unchanged"; id: string; app: string; version: string };

function discard(source: Readable | AsyncIterable<Uint8Array>) {
  if (source instanceof Readable) source.destroy();
}

/** Whether an existing release is this very manifest (then a push is a no-op) or something else. */
async function existingVerdict(deps: ReleaseDeps, m: ReleaseManifest): Promise<PushResult | null> {
  const row = await deps.db.release.findUnique({
    where: { app_version: { app: m.app, version: m.version } },
    select: { id: true, manifest: true },
  });
  if (!row) return null;
  if (row.manifest === formatManifest(m))
    return { status: "unchanged", id: row.id, app: m.app, version: m.version };
  throw new AppError("CONFLICT", {
    message: `${m.app} ${m.version} already exists with other contents; a published version never changes: push it as a new version`,
  });
}

/**
 * Accepts a release built elsewhere: the manifest must verify against a key the console accepts
 * (active), the stream must match the manifest's length and digests, and the version must be new
 * (pushing the identical release again changes nothing). Nothing is stored unless all of that holds.
 */
export async function pushRelease(
  deps: ReleaseDeps,
  input: {
    manifest: string | unknown;
    stream: Readable | AsyncIterable<Uint8Array>;
    onProgress?: (bytes: number) => void;
  },
): Promise<PushResult> {
  let m: ReleaseManifest;
  try {
    m = parseManifest(input.manifest);
    if (m.parent) {
      throw new AppError("BAD_REQUEST", {
        message: `this manifest is for an incremental stream from ${m.parent.version}: push the full stream; the console makes incremental streams itself`,
      });
    }
    const accepted = await listKeysAcceptedForPush({ db: deps.db });
    const sig = checkManifestSignature(m, accepted);
    if (!sig.ok) {
      const known = await deps.db.signingKey.findUnique({
        where: { keyId: m.signer },
        select: { status: true },
      });
      if (sig.code === "UNTRUSTED_KEY") {
        throw new AppError("FORBIDDEN", {
          message: known
            ? `${m.app} ${m.version} is signed by key ${m.signer}, which is ${known.status}: sign new releases with an active key`
            : `${m.app} ${m.version} is signed by key ${m.signer}, which the console does not trust: add its public key in Settings → Signing keys`,
          details: { reason: "UNTRUSTED_KEY" },
        });
      }
      throw new AppError("BAD_REQUEST", {
        message: `the signature of ${m.app} ${m.version} does not verify with key ${m.signer}`,
        details: { reason: "BAD_SIGNATURE" },
      });
    }
    const same = await existingVerdict(deps, m);
    if (same) {
      discard(input.stream);
      return same;
    }
  } catch (e) {
    discard(input.stream);
    throw e;
  }

  let received;
  try {
    received = await receiveStreamToFile({
      dataDir: deps.dataDir,
      source: input.stream,
      chunkSize: m.stream.chunkSize,
      maxBytes: m.stream.bytes,
      onProgress: input.onProgress,
    });
  } catch (e) {
    if (e instanceof StreamTooLongError) {
      throw new AppError("BAD_REQUEST", {
        message: `the stream is longer than the ${m.stream.bytes} bytes its manifest declares`,
        details: { reason: "DIGEST_MISMATCH" },
      });
    }
    throw e;
  }
  try {
    const problem =
      received.bytes !== m.stream.bytes
        ? `the stream has ${received.bytes} bytes, its manifest declares ${m.stream.bytes}`
        : received.sha256 !== m.stream.sha256
          ? `the stream's SHA-256 is ${received.sha256}, its manifest declares ${m.stream.sha256}`
          : received.chunks.some((c, i) => c !== m.stream.chunks[i])
            ? "the stream's chunk digests differ from its manifest's"
            : null;
    if (problem)
      throw new AppError("BAD_REQUEST", {
        message: `${m.app} ${m.version} refused: ${problem}`,
        details: { reason: "DIGEST_MISMATCH" },
      });

    let subvolume: string | null = null;
    if (await keepsSubvolumes(deps, m)) {
      const work = await mkdtemp(join(deps.dataDir, "uploads", "receive-"));
      try {
        subvolume = await materializeRelease(deps, m, received.path, work);
      } catch (e) {
        const msg = e instanceof AppError ? e.message : String(e);
        throw new AppError("BAD_REQUEST", {
          message: `${m.app} ${m.version} refused: ${msg}`,
          details: { reason: "RECEIVE_FAILED" },
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    try {
      return await deps.db.$transaction(
        async (tx) => {
          await retainArtifactFile(tx, deps.store, received.path, m.stream.sha256);
          const row = await tx.release.create({
            data: {
              ...manifestColumns(m),
              source: "push",
              addedById: deps.actorId,
              subvolume,
            },
            select: { id: true },
          });
          await appendAudit(tx, {
            actorId: deps.actorId,
            action: "release.push",
            target: `release:${m.app}@${m.version}`,
            detail: {
              signer: m.signer,
              sha256: m.stream.sha256,
              bytes: m.stream.bytes,
              format: m.stream.format,
            },
          });
          return { status: "created" as const, id: row.id, app: m.app, version: m.version };
        },
        { timeout: 60_000 },
      );
    } catch (e) {
      // Keep the subvolume only if a release row (ours, or a concurrent push's) refers to it.
      const kept = await deps.db.release.findUnique({
        where: { app_version: { app: m.app, version: m.version } },
        select: { id: true },
      });
      if (subvolume && !kept) await dropSubvolume(deps, m.app, m.version).catch(() => undefined);
      // Two pushes of one version at once: the loser sees what the winner stored.
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
        const same = await existingVerdict(deps, m);
        if (same) return same;
      }
      throw e;
    }
  } finally {
    await rm(received.path, { force: true });
  }
}
