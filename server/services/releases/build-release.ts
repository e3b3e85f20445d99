// Builds a release on the console: from a directory, or a .tar / .tar.zst streamed in, into a
// read-only subvolume of the console's btrfs data directory (snapshot of the previous version +
// sync of the new tree, done by the console's own keel-agent `build`), with the full stream,
// the incremental stream from the previous version, and manifests signed by the active key.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  canonicalJson,
  compareVersions,
  type RuntimeRequirement,
  RELEASE_KINDS,
  type BuildResult,
  type HealthCheck,
  type ReleaseKind,
  type ReleaseManifest,
} from "@/agent/protocol";
import { AppError } from "@/server/errors";
import { appendAudit } from "@/server/services/audit/append-audit";
import { retainArtifactFile } from "@/server/services/artifacts/artifact-refs";
import { loadSigningKey } from "@/server/services/keys/load-signing-key";
import { buildStoreOnBtrfs } from "./btrfs";
import { activationArgs, parseActivation } from "./activation-input";
import type { Activation } from "@/agent/protocol";
import {
  describeHealthCheck,
  parseHealthCheck,
  sameHealthCheck,
  type HealthCheckInput,
} from "./health-check";
import { dropSubvolume } from "./materialize-release";
import type { ReleaseDeps } from "./deps";
import { releaseSubvolumePath, subvolumesRoot } from "./layout";
import { assertAppName, assertVersion } from "./names";
import { manifestColumns, parseManifest } from "./parse-manifest";
import { parseRequires } from "./requires-input";
import { recordDelta } from "./produce-delta";
import { runLocalAgent, SECRET_FILE } from "./run-local-agent";

export type BuildSource =
  { dir: string } | { tar: Readable | AsyncIterable<Uint8Array>; compression: "none" | "zstd" };

export type BuildReleaseResult = {
  id: string;
  app: string;
  version: string;
  parent: string | null;
  fullBytes: number;
  incrementalBytes: number | null;
  tree: { files: number; bytes: number };
  healthCheck: HealthCheck | null;
};

/** Refuses early (before any upload is read) when building cannot work here. */
export async function assertCanBuild(deps: Pick<ReleaseDeps, "dataDir">): Promise<void> {
  if (!(await buildStoreOnBtrfs(deps.dataDir))) {
    throw new AppError("PRECONDITION_FAILED", {
      message: `building releases needs a btrfs build store, and ${deps.dataDir}/subvolumes is not on btrfs: restart the console as root (npm start then mounts a btrfs image there), or build with \`keel-agent build\` on a btrfs machine and push the result (\`keel release push MANIFEST STREAM\`)`,
      details: { reason: "NOT_BTRFS" },
    });
  }
}

async function unpackTar(
  dir: string,
  tar: Readable | AsyncIterable<Uint8Array>,
  compression: "none" | "zstd",
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // GNU tar refuses member names with "..", strips leading "/", and creates symlinks last.
  const args = [
    "--extract",
    "--file=-",
    `--directory=${dir}`,
    "--numeric-owner",
    ...(compression === "zstd" ? ["--zstd"] : []),
  ];
  const child = spawn("tar", args, { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  });
  try {
    await pipeline(tar instanceof Readable ? tar : Readable.from(tar), child.stdin);
  } catch (e) {
    child.kill();
    await exited.catch(() => undefined);
    throw new AppError("BAD_REQUEST", {
      message: `the upload could not be read as a ${compression === "zstd" ? ".tar.zst" : ".tar"}: ${stderr.trim() || (e as Error).message}`,
    });
  }
  const code = await exited;
  if (code !== 0) {
    throw new AppError("BAD_REQUEST", {
      message: `the upload is not a valid ${compression === "zstd" ? ".tar.zst" : ".tar"}: ${stderr.trim().split("\n").slice(-2).join(" ")}`,
    });
  }
}

export async function buildRelease(
  deps: ReleaseDeps,
  input: {
    app: string;
    version: string;
    kind?: ReleaseKind;
    source: BuildSource;
    /** Run on each host after activation; recorded in the signed manifests. */
    healthCheck?: HealthCheckInput | HealthCheck;
    /** onActivate and exports (decision 0022), recorded in the signed manifests. */
    activation?: unknown;
    /** Runtimes the app requires (`node@^20, …` or the manifest's JSON form); kind app only. */
    requires?: unknown;
  },
): Promise<BuildReleaseResult> {
  const { db } = deps;
  const discard = () => {
    if ("tar" in input.source && input.source.tar instanceof Readable) input.source.tar.destroy();
  };
  let app: string,
    version: string,
    healthCheck: HealthCheck | undefined,
    requires: RuntimeRequirement[] | undefined,
    activation: Activation | undefined;
  const kind = input.kind ?? "app";
  try {
    app = assertAppName(input.app);
    version = assertVersion(input.version);
    if (!RELEASE_KINDS.includes(kind))
      throw new AppError("BAD_REQUEST", { message: `kind must be one of ${RELEASE_KINDS.join(", ")}` });
    healthCheck = input.healthCheck === undefined ? undefined : parseHealthCheck(input.healthCheck);
    activation = parseActivation(input.activation);
    requires = parseRequires(input.requires, kind);
    await assertCanBuild(deps);
    if (await db.release.findUnique({ where: { app_version: { app, version } }, select: { id: true } })) {
      throw new AppError("CONFLICT", {
        message: `${app} ${version} already exists; a published version never changes: build it as a new version`,
      });
    }
  } catch (e) {
    discard();
    throw e;
  }
  const signer = await loadSigningKey(deps);

  // Parent: the newest older version the console holds a subvolume of.
  const older = (
    await db.release.findMany({ where: { app }, select: { id: true, version: true, subvolume: true } })
  )
    .filter((r) => compareVersions(r.version, version) < 0 && r.subvolume && existsSync(r.subvolume))
    .sort((a, b) => compareVersions(b.version, a.version));
  const parent = older[0] ?? null;

  const work = join(deps.dataDir, "uploads", `build-${randomBytes(8).toString("hex")}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    let from: string;
    if ("dir" in input.source) from = input.source.dir;
    else {
      from = join(work, "tree");
      await unpackTar(from, input.source.tar, input.source.compression);
    }
    const store = subvolumesRoot(deps.dataDir);
    await mkdir(join(store, "apps"), { recursive: true });
    const out = join(work, "out");
    const args = [
      "build",
      "--store",
      store,
      "--from",
      from,
      "--app",
      app,
      "--version",
      version,
      "--kind",
      kind,
      "--key",
      SECRET_FILE,
      "--out",
      out,
    ];
    if (parent) args.push("--parent", parent.version);
    if (healthCheck) args.push("--health-check", JSON.stringify(healthCheck));
    args.push(...activationArgs(activation));
    if (requires) args.push("--requires", JSON.stringify(requires));
    const built = await runLocalAgent<BuildResult>(args, {
      step: `building ${app} ${version}`,
      secret: signer.key.export({ format: "pem", type: "pkcs8" }).toString(),
      scratchDir: work,
    });
    const subvolume = releaseSubvolumePath(deps.dataDir, app, version);
    try {
      return await record(deps, {
        app,
        version,
        parent,
        built,
        subvolume,
        signerKeyId: signer.keyId,
        healthCheck,
        requires,
      });
    } catch (e) {
      // Nothing refers to the new subvolume unless its release row was committed.
      const kept = await db.release.findUnique({
        where: { app_version: { app, version } },
        select: { id: true },
      });
      if (!kept) await dropSubvolume(deps, app, version).catch(() => undefined);
      throw e;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function record(
  deps: ReleaseDeps,
  b: {
    app: string;
    version: string;
    parent: { id: string; version: string; subvolume: string | null } | null;
    built: BuildResult;
    subvolume: string;
    signerKeyId: string;
    healthCheck: HealthCheck | undefined;
    requires?: RuntimeRequirement[];
  },
): Promise<BuildReleaseResult> {
  const { db } = deps;
  const { app, version, parent, built, subvolume } = b;
  {
    const full = parseManifest(await readFile(built.full.manifestPath, "utf8"));
    const check = (m: ReleaseManifest, what: string) => {
      if (m.app !== app || m.version !== version || m.signer !== b.signerKeyId) {
        throw new AppError("INTERNAL", {
          message: `keel-agent build wrote a ${what} manifest for ${m.app} ${m.version} signed by ${m.signer}`,
        });
      }
      if (canonicalJson(m.requires ?? null) !== canonicalJson(b.requires ?? null))
        throw new AppError("INTERNAL", {
          message: `keel-agent build wrote a ${what} manifest without the requested requires (run \`npm run build:agent\`)`,
        });
      if (!sameHealthCheck(m.healthCheck, b.healthCheck)) {
        throw new AppError("INTERNAL", {
          message: `keel-agent build wrote a ${what} manifest without the requested health check (is the agent bundle older? run \`npm run build:agent\`)`,
        });
      }
    };
    check(full, "full");

    const row = await db.$transaction(
      async (tx) => {
        await retainArtifactFile(tx, deps.store, built.full.streamPath, full.stream.sha256);
        const r = await tx.release.create({
          data: {
            // check() above: the manifest names this app and version.
            ...manifestColumns(full),
            source: "build",
            addedById: deps.actorId,
            subvolume,
          },
          select: { id: true },
        });
        await appendAudit(tx, {
          actorId: deps.actorId,
          action: "release.build",
          target: `release:${app}@${version}`,
          detail: {
            signer: full.signer,
            sha256: full.stream.sha256,
            bytes: full.stream.bytes,
            parent: parent?.version ?? null,
            healthCheck: full.healthCheck ? describeHealthCheck(full.healthCheck) : null,
          },
        });
        return r;
      },
      { timeout: 60_000 },
    );

    let incrementalBytes: number | null = null;
    if (parent && built.incremental) {
      const inc = parseManifest(await readFile(built.incremental.manifestPath, "utf8"));
      check(inc, "incremental");
      await recordDelta(deps, {
        parent: { id: parent.id, subvolume: parent.subvolume! },
        target: { id: row.id, app, version },
        manifest: inc,
        streamPath: built.incremental.streamPath,
      });
      incrementalBytes = inc.stream.bytes;
    }
    return {
      id: row.id,
      app,
      version,
      parent: parent?.version ?? null,
      fullBytes: full.stream.bytes,
      incrementalBytes,
      tree: { files: full.tree.files, bytes: full.tree.bytes },
      healthCheck: full.healthCheck ?? null,
    };
  }
}
