// Reference counting for the artifact store. A blob's references are the Release and
// ReleaseDelta rows naming its digest (full streams, incremental streams, encoded deltas of both formats), so the
// count cannot drift from the rows. Adding and dropping a blob both take a transaction-scoped
// advisory lock on its digest: a blob is unlinked only inside the transaction that removed its
// last reference, and a concurrent push of the same bytes waits, then puts them back.
import { type Prisma } from "@prisma/client";
import type { ArtifactStore } from "./store";

type Tx = Prisma.TransactionClient;

export async function lockDigest(tx: Tx, digest: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${"artifact:" + digest}, 0))`;
}

/** Places a verified local file into the store (moving it) and records the blob; idempotent. */
export async function retainArtifactFile(
  tx: Tx,
  store: ArtifactStore,
  file: string,
  digest: string,
): Promise<{ bytes: number }> {
  await lockDigest(tx, digest);
  const put = await store.putFile(file, { move: true });
  if (put.digest !== digest)
    throw new Error(`artifact ${file} changed while it was being stored (${put.digest} ≠ ${digest})`);
  await tx.artifact.upsert({ where: { digest }, create: { digest, bytes: BigInt(put.bytes) }, update: {} });
  return { bytes: put.bytes };
}

/** How many rows still refer to the blob. */
export async function countArtifactRefs(tx: Tx, digest: string): Promise<number> {
  const [releases, deltas] = await Promise.all([
    tx.release.count({ where: { streamDigest: digest } }),
    tx.releaseDelta.count({
      where: { OR: [{ streamDigest: digest }, { encodedDigest: digest }, { encoded2Digest: digest }] },
    }),
  ]);
  return releases + deltas;
}

/**
 * Call after removing rows that referred to `digests`, in the same transaction: blobs nothing
 * refers to any more are forgotten and deleted. Returns the digests deleted.
 */
export async function dropUnusedArtifacts(
  tx: Tx,
  store: ArtifactStore,
  digests: Iterable<string>,
): Promise<string[]> {
  const dropped: string[] = [];
  for (const digest of [...new Set(digests)].sort()) {
    await lockDigest(tx, digest);
    if ((await countArtifactRefs(tx, digest)) > 0) continue;
    await tx.artifact.deleteMany({ where: { digest } });
    await store.delete(digest);
    dropped.push(digest);
  }
  return dropped;
}
