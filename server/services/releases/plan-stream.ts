import type { PrismaClient } from "@prisma/client";
import { compareVersions } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import type { ReleaseDeps } from "./deps";
import { canProduceDelta, produceDelta, type DeltaRow } from "./produce-delta";

/**
 * The cheapest way to get one version onto a host. `bytes` is what goes over the wire: for a
 * delta, the encoded incremental stream when the console has one, else the raw stream.
 * `none`: the host holds the version already.
 */
export type StreamPlan =
  | { kind: "none"; bytes: 0; releaseId: string }
  | { kind: "full"; bytes: number; releaseId: string }
  | { kind: "delta"; parent: string; bytes: number; releaseId: string; deltaId: string; streamBytes: number };

const wireBytes = (d: DeltaRow) => Number(d.encodedBytes ?? d.streamBytes);

/**
 * Host H holds `hostVersions` of `app`: which stream gets `version` onto it most cheaply?
 * Candidates are the versions H holds that the console knows, nearest to `version` in version
 * order first (older before newer at equal distance); the first for which an incremental stream
 * is cached — or, given `producer`, can be made from the console's subvolumes — is used, unless
 * the full stream is not larger. Otherwise the full stream.
 */
export async function planStream(opts: {
  db: PrismaClient;
  hostVersions: readonly string[];
  app: string;
  version: string;
  /** Allows producing (and caching) missing deltas. */
  producer?: ReleaseDeps;
}): Promise<StreamPlan> {
  const { db, app, version } = opts;
  const releases = await db.release.findMany({
    where: { app },
    select: { id: true, version: true, subvolume: true, streamBytes: true },
  });
  const target = releases.find((r) => r.version === version);
  if (!target) throw new AppError("NOT_FOUND", { message: `there is no release ${app} ${version}` });
  if (opts.hostVersions.includes(version)) return { kind: "none", bytes: 0, releaseId: target.id };
  const full: StreamPlan = { kind: "full", bytes: Number(target.streamBytes), releaseId: target.id };

  const ordered = releases.map((r) => r.version).sort(compareVersions);
  const at = (v: string) => ordered.indexOf(v);
  const t = at(version);
  const held = new Set(opts.hostVersions);
  const candidates = releases
    .filter((r) => r.id !== target.id && held.has(r.version))
    .sort(
      (a, b) => Math.abs(at(a.version) - t) - Math.abs(at(b.version) - t) || at(a.version) - at(b.version),
    );
  if (candidates.length === 0) return full;

  const cached = new Map(
    (
      await db.releaseDelta.findMany({
        where: { releaseId: target.id, parentId: { in: candidates.map((c) => c.id) } },
        select: {
          parentId: true,
          id: true,
          streamBytes: true,
          encodedBytes: true,
          streamDigest: true,
          encodedDigest: true,
        },
      })
    ).map((d) => [d.parentId, d]),
  );
  for (const c of candidates) {
    let delta: DeltaRow | undefined = cached.get(c.id);
    if (!delta && opts.producer && canProduceDelta(c, target)) {
      delta = await produceDelta(opts.producer, { parentId: c.id, releaseId: target.id });
    }
    if (!delta) continue;
    if (wireBytes(delta) >= full.bytes) return full;
    return {
      kind: "delta",
      parent: c.version,
      bytes: wireBytes(delta),
      releaseId: target.id,
      deltaId: delta.id,
      streamBytes: Number(delta.streamBytes),
    };
  }
  return full;
}
