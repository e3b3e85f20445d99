// Produces the incremental stream from one release to another (`btrfs send -p`) from the
// console's read-only subvolumes, signs its manifest (which names the parent) with the console's
// active key, and caches it in the artifact store. The stream is also encoded against the parent
// tree twice, one after the other (decision 0040: two encoders at once would double the console's
// peak memory, decision 0031): as a format-1 delta (keel-delta-1, what every agent takes and what a
// plan names) and as a format-2 delta (DIFF ops, sent as keel-delta-2 to agents that list it).
// Each (parent, version) pair is produced once.
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Prisma } from "@prisma/client";
import { DEFAULT_CHUNK_SIZE, formatManifest, signManifest, type ReleaseManifest } from "@/agent/protocol";
import { encodeDelta } from "@/agent/protocol/delta/encode";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { dropUnusedArtifacts, retainArtifactFile } from "@/server/services/artifacts/artifact-refs";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import { hostReceivedUuid, sendStream, showSubvolume } from "./btrfs";
import type { ReleaseDeps } from "./deps";
import { receiveStreamToFile } from "./receive-stream";

export type DeltaRow = {
  id: string;
  streamBytes: bigint;
  encodedBytes: bigint | null;
  streamDigest: string;
  encodedDigest: string | null;
  encoded2Bytes: bigint | null;
  encoded2Digest: string | null;
};
/** The columns of a DeltaRow. */
export const deltaSelect = {
  id: true,
  streamBytes: true,
  encodedBytes: true,
  streamDigest: true,
  encodedDigest: true,
  encoded2Bytes: true,
  encoded2Digest: true,
} satisfies Prisma.ReleaseDeltaSelect;

/**
 * The bytes a delta costs on the wire, as plans and pages estimate it: the smallest form the console
 * stores and sends — the format-2 delta where it is the smaller (what an agent listing keel-delta-2
 * gets, decision 0040), else the format-1 delta, else the raw incremental stream. An agent of an
 * earlier build may receive the larger format-1 delta.
 */
export function deltaWireBytes(d: {
  streamBytes: bigint;
  encodedBytes: bigint | null;
  encoded2Bytes: bigint | null;
}): number {
  const one = d.encodedBytes === null ? Number(d.streamBytes) : Number(d.encodedBytes);
  return d.encoded2Bytes !== null && Number(d.encoded2Bytes) < one ? Number(d.encoded2Bytes) : one;
}

const inFlight = new Map<string, Promise<DeltaRow>>();

/** Whether a delta between the two releases exists or could be made here. */
export function canProduceDelta(
  parent: { subvolume: string | null },
  target: { subvolume: string | null },
): boolean {
  return (
    !!parent.subvolume && !!target.subvolume && existsSync(parent.subvolume) && existsSync(target.subvolume)
  );
}

export async function produceDelta(
  deps: ReleaseDeps,
  pair: { parentId: string; releaseId: string },
): Promise<DeltaRow> {
  const key = `${pair.parentId}>${pair.releaseId}`;
  const running = inFlight.get(key);
  if (running) return running;
  const p = produce(deps, pair).finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

async function produce(deps: ReleaseDeps, pair: { parentId: string; releaseId: string }): Promise<DeltaRow> {
  const { db } = deps;
  const cached = await db.releaseDelta.findUnique({
    where: { parentId_releaseId: pair },
    select: deltaSelect,
  });
  if (cached) return cached;
  const sel = { id: true, app: true, version: true, manifest: true, subvolume: true } as const;
  const [parent, target] = await Promise.all([
    db.release.findUniqueOrThrow({ where: { id: pair.parentId }, select: sel }),
    db.release.findUniqueOrThrow({ where: { id: pair.releaseId }, select: sel }),
  ]);
  if (parent.app !== target.app)
    throw new AppError("BAD_REQUEST", { message: "a delta needs two versions of the same app" });
  if (!canProduceDelta(parent, target)) {
    throw new AppError("PRECONDITION_FAILED", {
      message: `no incremental stream ${target.app} ${parent.version} → ${target.version} can be made: the console holds no subvolume of one of them`,
    });
  }
  const signer = await loadSigningKey(deps);
  const [pInfo, tInfo] = await Promise.all([
    showSubvolume(parent.subvolume!),
    showSubvolume(target.subvolume!),
  ]);
  const parentManifest = JSON.parse(parent.manifest) as ReleaseManifest;
  const targetManifest = JSON.parse(target.manifest) as ReleaseManifest;

  const received = await receiveStreamToFile({
    dataDir: deps.dataDir,
    source: sendStream(target.subvolume!, parent.subvolume!),
    chunkSize: DEFAULT_CHUNK_SIZE,
    maxBytes: Number.MAX_SAFE_INTEGER,
  });
  try {
    const { signature: _s, signer: _k, parent: _p, ...rest } = targetManifest;
    const manifest = signManifest(
      {
        ...rest,
        stream: {
          format: "btrfs-send",
          compression: "none",
          bytes: received.bytes,
          sha256: received.sha256,
          chunkSize: DEFAULT_CHUNK_SIZE,
          chunks: received.chunks,
          uuid: hostReceivedUuid(tInfo),
        },
        parent: {
          version: parent.version,
          uuid: hostReceivedUuid(pInfo),
          treeSha256: parentManifest.tree.sha256,
        },
      },
      signer,
    );
    return await recordDelta(deps, {
      parent: { id: parent.id, subvolume: parent.subvolume! },
      target,
      manifest,
      streamPath: received.path,
    });
  } finally {
    await rm(received.path, { force: true });
  }
}

/**
 * Stores an incremental stream (a file, moved into the artifact store) with its signed manifest,
 * and its two delta encodings against the parent subvolume (format 1, then format 2). Returns the
 * existing row if another process recorded the pair first.
 */
export async function recordDelta(
  deps: ReleaseDeps,
  d: {
    parent: { id: string; subvolume: string };
    target: { id: string; app: string; version: string };
    manifest: ReleaseManifest;
    streamPath: string;
  },
): Promise<DeltaRow> {
  const { db } = deps;
  const pair = { parentId: d.parent.id, releaseId: d.target.id };
  const m = d.manifest;
  await mkdir(join(deps.dataDir, "uploads"), { recursive: true, mode: 0o700 });
  const made: string[] = [];
  try {
    // One after the other: each encoder holds the parent index, then brotli's window (decision 0031).
    const enc1 = await encodeTo(deps.dataDir, d, 1, made);
    const enc2 = await encodeTo(deps.dataDir, d, 2, made);
    try {
      return await db.$transaction(
        async (tx) => {
          await retainArtifactFile(tx, deps.store, d.streamPath, m.stream.sha256);
          await retainArtifactFile(tx, deps.store, enc1.path, enc1.digest);
          await retainArtifactFile(tx, deps.store, enc2.path, enc2.digest);
          const row = await tx.releaseDelta.create({
            data: {
              ...pair,
              manifest: formatManifest(m),
              signerKeyId: m.signer,
              streamDigest: m.stream.sha256,
              streamBytes: BigInt(m.stream.bytes),
              encodedDigest: enc1.digest,
              encodedBytes: BigInt(enc1.bytes),
              encoded2Digest: enc2.digest,
              encoded2Bytes: BigInt(enc2.bytes),
            },
            select: deltaSelect,
          });
          await appendAudit(tx, {
            actorId: deps.actorId,
            action: "release.delta",
            target: `release:${m.app}@${m.version}`,
            detail: {
              parent: m.parent?.version ?? null,
              bytes: m.stream.bytes,
              wireBytes: enc1.bytes,
              wire2Bytes: enc2.bytes,
              signer: m.signer,
            },
          });
          return row;
        },
        { timeout: 120_000 },
      );
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
        // Another console process made it first: keep theirs, drop ours.
        await db.$transaction((tx) =>
          dropUnusedArtifacts(tx, deps.store, [m.stream.sha256, enc1.digest, enc2.digest]),
        );
        return db.releaseDelta.findUniqueOrThrow({
          where: { parentId_releaseId: pair },
          select: deltaSelect,
        });
      }
      throw e;
    }
  } finally {
    await Promise.all(made.map((p) => rm(p, { force: true })));
  }
}

/** Encodes the stream against the parent as a format-`version` delta into a file under uploads/. */
async function encodeTo(
  dataDir: string,
  d: { parent: { subvolume: string }; manifest: ReleaseManifest; streamPath: string },
  version: 1 | 2,
  made: string[],
): Promise<{ path: string; digest: string; bytes: number }> {
  const m = d.manifest;
  const path = join(dataDir, "uploads", `encoded${version}-${randomBytes(8).toString("hex")}`);
  made.push(path);
  const out = createWriteStream(path, { mode: 0o600 });
  const enc = await encodeDelta({ parentDir: d.parent.subvolume, target: d.streamPath, out, version });
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  if (enc.targetSha256 !== m.stream.sha256) {
    throw new AppError("INTERNAL", {
      message: `the incremental stream ${m.app} ${m.parent?.version} → ${m.version} does not match its manifest (format-${version} delta)`,
    });
  }
  return { path, digest: await digestOf(path), bytes: enc.bytes };
}

async function digestOf(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}
