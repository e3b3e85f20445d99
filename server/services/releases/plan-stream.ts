import { existsSync } from "node:fs";
import type { PrismaClient } from "@prisma/client";
import { compareVersions } from "@/agent/protocol";
import { AppError } from "@/server/errors";
import type { ReleaseDeps } from "./deps";
import { canProduceDelta, deltaSelect, deltaWireBytes, produceDelta, type DeltaRow } from "./produce-delta";

/**
 * The cheapest way to get one version onto a host. `bytes` is what goes over the wire: for a
 * delta, its smallest stored form (`deltaWireBytes`), else the raw stream.
 * `none`: the host holds the version already. A `full` plan for a host that holds other versions
 * says in `reason` why no incremental stream is used (deterministic for the same console state).
 */
export type StreamPlan =
  | { kind: "none"; bytes: 0; releaseId: string }
  | { kind: "full"; bytes: number; releaseId: string; reason?: string }
  | { kind: "delta"; parent: string; bytes: number; releaseId: string; deltaId: string; streamBytes: number };

/**
 * Host H holds `hostVersions` of `app`: which stream gets `version` onto it most cheaply?
 * Candidates are the versions H holds that the console knows, nearest to `version` in version
 * order first (older before newer at equal distance); the first for which an incremental stream
 * is cached — or, given `producer`, can be made from the console's subvolumes (`btrfs send -p`,
 * made once and cached) — is used, unless the full stream is not larger. Otherwise the full
 * stream, with the reason.
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
  const full = (reason?: string): StreamPlan =>
    reason
      ? { kind: "full", bytes: Number(target.streamBytes), releaseId: target.id, reason }
      : { kind: "full", bytes: Number(target.streamBytes), releaseId: target.id };

  const ordered = releases.map((r) => r.version).sort(compareVersions);
  const at = (v: string) => ordered.indexOf(v);
  const t = at(version);
  const held = new Set(opts.hostVersions);
  const candidates = releases
    .filter((r) => r.id !== target.id && held.has(r.version))
    .sort(
      (a, b) => Math.abs(at(a.version) - t) - Math.abs(at(b.version) - t) || at(a.version) - at(b.version),
    );
  if (candidates.length === 0)
    return full(
      held.size > 0 ? `the host holds no version of ${app} the console has a release of` : undefined,
    );

  const cached = new Map(
    (
      await db.releaseDelta.findMany({
        where: { releaseId: target.id, parentId: { in: candidates.map((c) => c.id) } },
        select: { parentId: true, ...deltaSelect },
      })
    ).map((d) => [d.parentId, d]),
  );
  const why: string[] = [];
  for (const c of candidates) {
    let delta: DeltaRow | undefined = cached.get(c.id);
    if (!delta) {
      if (!opts.producer) {
        why.push(`no incremental stream from ${c.version} is cached`);
        continue;
      }
      const missing = missingSubvolume(c, target);
      if (missing) {
        why.push(
          `no incremental stream from ${c.version} can be made: the console holds no subvolume of ${app} ${missing}`,
        );
        continue;
      }
      try {
        delta = await produceDelta(opts.producer, { parentId: c.id, releaseId: target.id });
      } catch (e) {
        why.push(
          `the incremental stream from ${c.version} could not be made: ${(e as Error).message.slice(0, 300)}`,
        );
        continue;
      }
    }
    if (deltaWireBytes(delta) >= full().bytes)
      return full(`the incremental stream from ${c.version} is not smaller than the full stream`);
    return {
      kind: "delta",
      parent: c.version,
      bytes: deltaWireBytes(delta),
      releaseId: target.id,
      deltaId: delta.id,
      streamBytes: Number(delta.streamBytes),
    };
  }
  return full(why.join("; "));
}

/** Which of the two versions the console holds no subvolume of (null: a delta can be made). */
function missingSubvolume(
  parent: { version: string; subvolume: string | null },
  target: { version: string; subvolume: string | null },
): string | null {
  if (canProduceDelta(parent, target)) return null;
  const held = (r: { subvolume: string | null }) => !!r.subvolume && existsSync(r.subvolume);
  return held(parent) ? target.version : parent.version;
}
