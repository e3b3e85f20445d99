import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { dropUnusedArtifacts } from "@/server/services/artifacts/artifact-refs";
import { dropSubvolume } from "./materialize-release";
import type { ReleaseDeps } from "./deps";
import { findHostsRunning } from "./find-hosts-running";

/**
 * Deletes a release, its cached deltas (to and from it) and every stream no other release needs.
 * Refused while a host runs it (current or rollback target).
 */
export async function deleteRelease(deps: ReleaseDeps, input: { app: string; version: string }) {
  const { db } = deps;
  const release = await db.release.findUnique({
    where: { app_version: input },
    select: { id: true, streamDigest: true, subvolume: true },
  });
  if (!release)
    throw new AppError("NOT_FOUND", { message: `there is no release ${input.app} ${input.version}` });
  const running = await findHostsRunning(deps, input);
  if (running.length > 0) {
    const names = running
      .slice(0, 5)
      .map((r) => `${r.host} (${r.role})`)
      .join(", ");
    throw new AppError("CONFLICT", {
      message: `${input.app} ${input.version} is still in use on ${running.length} host(s): ${names}${running.length > 5 ? ", …" : ""}; roll them to another version first`,
      details: { hosts: running },
    });
  }
  const dropped = await db.$transaction(
    async (tx) => {
      const deltas = await tx.releaseDelta.findMany({
        where: { OR: [{ releaseId: release.id }, { parentId: release.id }] },
        select: { id: true, streamDigest: true, encodedDigest: true, encoded2Digest: true },
      });
      await tx.releaseDelta.deleteMany({ where: { id: { in: deltas.map((d) => d.id) } } });
      await tx.release.delete({ where: { id: release.id } });
      await appendAudit(tx, {
        actorId: deps.actorId,
        action: "release.delete",
        target: `release:${input.app}@${input.version}`,
        detail: { deltas: deltas.length },
      });
      const digests = [
        release.streamDigest,
        ...deltas.flatMap((d) =>
          [d.streamDigest, d.encodedDigest, d.encoded2Digest].filter((x) => x !== null),
        ),
      ];
      return dropUnusedArtifacts(tx, deps.store, digests);
    },
    { timeout: 60_000 },
  );
  if (release.subvolume) await dropSubvolume(deps, input.app, input.version);
  return { app: input.app, version: input.version, deletedArtifacts: dropped.length };
}
