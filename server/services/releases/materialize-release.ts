// On a btrfs data directory the console keeps a read-only subvolume of every release, so it can
// make incremental streams between any two versions. A pushed release gets there the way it gets
// onto a host: the console's own keel-agent `receive` (all of its checks: signature, digests,
// chroot'ed receive into a fresh staging directory, special files, tree digest) into the
// console's store. A stream that store refuses would be refused by hosts too.
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatManifest, type ReceiveResult, type ReleaseManifest } from "@/agent/protocol";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { buildStoreOnBtrfs, deleteSubvolume } from "./btrfs";
import type { ReleaseDeps } from "./deps";
import { releaseSubvolumePath, subvolumesRoot } from "./layout";
import { runLocalAgent } from "./run-local-agent";

/** Whether pushed releases of this format are kept as subvolumes here. */
export async function keepsSubvolumes(
  deps: Pick<ReleaseDeps, "dataDir">,
  m: ReleaseManifest,
): Promise<boolean> {
  return m.stream.format === "btrfs-send" && (await buildStoreOnBtrfs(deps.dataDir));
}

/** Receives a verified stream file into the console's store; returns the subvolume's path. */
export async function materializeRelease(
  deps: ReleaseDeps,
  m: ReleaseManifest,
  streamPath: string,
  workDir: string,
): Promise<string> {
  const trusted = join(workDir, "trusted.d");
  await mkdir(trusted, { recursive: true, mode: 0o700 });
  for (const k of await listTrustedPublicKeys(deps))
    await writeFile(join(trusted, k.fileName), k.publicKeyLine);
  const manifestPath = join(workDir, "manifest.json");
  await writeFile(manifestPath, formatManifest(m));
  const store = subvolumesRoot(deps.dataDir);
  await mkdir(join(store, "apps"), { recursive: true });
  await runLocalAgent<ReceiveResult>(
    ["receive", "--store", store, "--trusted", trusted, "--manifest", manifestPath, "--stream", streamPath],
    {
      scratchDir: workDir,
      step: `receiving ${m.app} ${m.version} into the console's store`,
    },
  );
  return releaseSubvolumePath(deps.dataDir, m.app, m.version);
}

/** Removes a release's subvolume and the agent's record of it from the console's store. */
export async function dropSubvolume(
  deps: Pick<ReleaseDeps, "dataDir">,
  app: string,
  version: string,
): Promise<void> {
  const path = releaseSubvolumePath(deps.dataDir, app, version);
  if (existsSync(path)) await deleteSubvolume(path);
  await rm(join(subvolumesRoot(deps.dataDir), "apps", app, ".meta", `${version}.json`), { force: true });
}
