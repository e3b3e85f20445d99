import type { Readable } from "node:stream";
import { AppError } from "@/server/errors";
import type { ReleaseDeps } from "./deps";
import type { StreamPlan } from "./plan-stream";

export type PlannedStream = {
  /** The signed manifest (canonical JSON text) the host verifies before receiving. */
  manifest: string;
  /** The signed stream itself (what `btrfs receive` gets). */
  open(): Promise<Readable>;
  /** The wire encoding of an incremental stream against its parent (agent/protocol/delta), when cached. */
  openEncoded: (() => Promise<Readable>) | null;
  bytes: number;
};

/** What to send for a plan from planStream: the manifest and the stream's bytes from the artifact store. */
export async function openReleaseStream(
  deps: Pick<ReleaseDeps, "db" | "store">,
  plan: StreamPlan,
): Promise<PlannedStream> {
  if (plan.kind === "none")
    throw new AppError("BAD_REQUEST", { message: "the host holds this version already; nothing to send" });
  if (plan.kind === "full") {
    const r = await deps.db.release.findUniqueOrThrow({
      where: { id: plan.releaseId },
      select: { manifest: true, streamDigest: true, streamBytes: true },
    });
    return {
      manifest: r.manifest,
      open: () => deps.store.open(r.streamDigest),
      openEncoded: null,
      bytes: Number(r.streamBytes),
    };
  }
  const d = await deps.db.releaseDelta.findUniqueOrThrow({
    where: { id: plan.deltaId },
    select: { manifest: true, streamDigest: true, streamBytes: true, encodedDigest: true },
  });
  const enc = d.encodedDigest;
  return {
    manifest: d.manifest,
    open: () => deps.store.open(d.streamDigest),
    openEncoded: enc ? () => deps.store.open(enc) : null,
    bytes: Number(d.streamBytes),
  };
}
