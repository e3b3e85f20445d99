// `build --from DIR --app A --version V [--parent P] --key KEY --out DIR`: for release builders
// (the console reuses this). The builder's store keeps one tree per version. On btrfs the new
// version is a writable snapshot of the parent (or a new subvolume), the source is synced into it
// with rsync (--inplace --no-whole-file --checksum, so unchanged extents stay shared), it is made
// read-only, and `btrfs send` writes the full stream and, with a parent, the incremental one.
// Without btrfs the format is keel-tree-1. Each stream gets its own signed manifest.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULT_CHUNK_SIZE,
  MANIFEST_VERSION,
  formatManifest,
  parsePrivateKey,
  signManifest,
  type BuildArgs,
  type BuildResult,
  type BuiltStream,
  type ReleaseManifest,
  type ReleaseParent,
  type StreamFormat,
} from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
import { clearIntent, newOpId, writeIntent } from "../journal/journal";
import { subvolumeInfo } from "../store/btrfs";
import { readSubvolume } from "../store/subvolume-read";
import { isHostLabel } from "../store/xattr-names";
import { ensureNoatime } from "../store/atime";
import { fsInfo } from "../store/detect";
import { fsyncDir, runChecked, writeFileDurable } from "../store/fs-util";
import { removeTree } from "../store/remove-tree";
import { readMeta, type VersionMeta } from "../store/state";
import { unpackTreeStream } from "../store/tree-unpack";
import { writeTreeStream } from "../store/tree-write";
import { digestStreamFile } from "../stream-digest";
import { walkTree } from "../tree-digest";

function created(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

export async function build(ctx: AgentContext, args: BuildArgs): Promise<BuildResult> {
  const { layout } = ctx;
  const { app, version } = args;
  let key;
  try {
    key = parsePrivateKey(readFileSync(args.key));
  } catch (e) {
    throw new AgentError(
      "BAD_REQUEST",
      "build",
      `cannot load signing key ${args.key}: ${(e as Error).message}`,
    );
  }
  if (!existsSync(args.from))
    throw new AgentError("NOT_FOUND", "build", `source directory ${args.from} does not exist`);
  const fs = fsInfo(layout.root);
  const format: StreamFormat = args.format ?? (fs.isBtrfs ? "btrfs-send" : "keel-tree-1");
  if (format === "btrfs-send" && !fs.isBtrfs) {
    throw new AgentError(
      "NOT_SUPPORTED",
      "build",
      `building btrfs-send releases needs the build store on btrfs; ${layout.root} is ${fs.fsType}`,
    );
  }
  if (format === "keel-tree-1" && fs.isBtrfs) {
    throw new AgentError(
      "NOT_SUPPORTED",
      "build",
      "keel-tree-1 releases are built in a store that is not on btrfs",
    );
  }
  if (format === "btrfs-send") ensureNoatime(layout.root); // decision 0030
  if (existsSync(layout.version(app, version)))
    throw new AgentError("ALREADY_INSTALLED", "build", `${app} ${version} exists in the build store already`);
  let parentMeta: VersionMeta | null = null;
  if (args.parent) {
    parentMeta = readMeta(layout, app, args.parent);
    if (!parentMeta)
      throw new AgentError(
        "PARENT_MISSING",
        "build",
        `parent ${app} ${args.parent} is not in the build store`,
      );
  }
  const parentPath = args.parent ? layout.version(app, args.parent) : null;
  mkdirSync(args.out, { recursive: true });
  mkdirSync(layout.metaDir(app), { recursive: true });
  const final = layout.version(app, version);
  const op = newOpId();
  const opDir = layout.op(op);
  mkdirSync(opDir, { mode: 0o700 });
  writeIntent(layout, { kind: "receive", op, app, version, building: true });
  const fullPath = join(args.out, `${app}-${version}.stream`);
  const incPath = args.parent ? join(args.out, `${app}-${version}.from-${args.parent}.stream`) : null;
  let committed = false;
  try {
    let uuid: string | undefined;
    if (format === "btrfs-send") {
      if (parentPath) await runChecked(["btrfs", "subvolume", "snapshot", "--", parentPath, final]);
      else await runChecked(["btrfs", "subvolume", "create", "--", final]);
      await runChecked([
        "rsync",
        "-a",
        "-H",
        "--numeric-ids",
        "--delete",
        "--inplace",
        "--no-whole-file",
        "--checksum",
        `${args.from.replace(/\/+$/, "")}/`,
        `${final}/`,
      ]);
    } else {
      writeTreeStream(args.from, null, fullPath);
    }
    if (format === "btrfs-send") {
      await runChecked(["btrfs", "property", "set", "-ts", final, "ro", "true"]);
      await runChecked(["btrfs", "send", "-q", "-f", fullPath, final]);
      if (parentPath && incPath)
        await runChecked(["btrfs", "send", "-q", "-p", parentPath, "-f", incPath, final]);
      const info = await subvolumeInfo(final);
      uuid = info.receivedUuid ?? info.uuid ?? undefined;
    } else {
      if (parentPath && incPath) writeTreeStream(args.from, parentPath, incPath);
      // Install into the build store the way a host would: unchanged files hard-linked from the parent.
      const fd = openSync(incPath ?? fullPath, "r");
      try {
        unpackTreeStream(fd, join(opDir, "tree"), parentPath);
      } finally {
        closeSync(fd);
      }
    }
    const treeDir = format === "btrfs-send" ? final : join(opDir, "tree");
    // The digest covers extended attributes as the kernel holds them (btrfs; keel-tree-1 carries none).
    const real = format === "btrfs-send" ? await readSubvolume(final, "build") : null;
    const walk = walkTree(treeDir, {
      withDigest: true,
      meta: true,
      manifestVersion: MANIFEST_VERSION,
      xattrs: real?.allXattrs ?? undefined,
    });
    const tree = {
      files: walk.files,
      bytes: walk.bytes,
      sha256: walk.sha256 as string,
      metaSha256: walk.metaSha256 as string,
    };
    // The build host's own security labels (SELinux, …) are not part of the release.
    const xattrNames = [...(real?.xattrNames ?? [])].filter((n) => !isHostLabel(n)).sort();
    const special = {
      setuid: walk.setuid.length > 0 || (real?.setuid.length ?? 0) > 0,
      capabilities: (real?.capabilities.length ?? 0) > 0,
      devices: walk.devices.length > 0,
      ...(xattrNames.length ? { xattrs: xattrNames } : {}),
    };
    const make = (
      path: string,
      parent: ReleaseParent | undefined,
    ): { manifest: ReleaseManifest; stream: BuiltStream } => {
      const d = digestStreamFile(path, DEFAULT_CHUNK_SIZE);
      const manifest = signManifest(
        {
          manifestVersion: MANIFEST_VERSION,
          app,
          version,
          kind: args.kind ?? "app",
          created: created(),
          tree,
          stream: {
            format,
            compression: "none",
            bytes: d.bytes,
            sha256: d.sha256,
            chunkSize: DEFAULT_CHUNK_SIZE,
            chunks: d.chunks,
            ...(uuid ? { uuid } : {}),
          },
          ...(parent ? { parent } : {}),
          ...(args.healthCheck ? { healthCheck: args.healthCheck } : {}),
          ...args.activation,
          ...(args.requires ? { requires: args.requires } : {}),
          ...(special.setuid || special.devices || special.capabilities || special.xattrs ? { special } : {}),
        },
        key,
      );
      const manifestPath = path.replace(/\.stream$/, ".manifest.json");
      writeFileDurable(manifestPath, formatManifest(manifest));
      return {
        manifest,
        stream: { manifestPath, streamPath: path, bytes: d.bytes, parent: parent?.version ?? null },
      };
    };
    const full = make(fullPath, undefined);
    let incremental: BuiltStream | null = null;
    if (incPath && parentMeta && args.parent) {
      const parent: ReleaseParent = { version: args.parent, treeSha256: parentMeta.manifest.tree.sha256 };
      if (format === "btrfs-send" && parentMeta.receivedUuid) parent.uuid = parentMeta.receivedUuid;
      incremental = make(incPath, parent).stream;
    }
    const meta: VersionMeta = {
      manifest: full.manifest,
      receivedUuid: uuid ?? null,
      backend: fs.isBtrfs ? "btrfs" : "plain",
      installedAt: new Date().toISOString(),
    };
    writeFileDurable(layout.meta(app, version), JSON.stringify(meta) + "\n");
    if (format === "keel-tree-1") {
      renameSync(join(opDir, "tree"), final);
    }
    fsyncDir(layout.app(app));
    committed = true;
    return { app, version, format, full: full.stream, incremental, tree };
  } finally {
    await removeTree(opDir, fs.isBtrfs).catch(() => undefined);
    if (!committed) {
      await removeTree(final, fs.isBtrfs).catch(() => undefined);
      await removeTree(layout.meta(app, version), false).catch(() => undefined);
    }
    clearIntent(layout, op);
  }
}
