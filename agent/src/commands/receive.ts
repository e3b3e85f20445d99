// `receive`: install one signed release into the store, without activating it.
// Order (each a named step in errors): signature → backend/parent/already-installed/space checks
// (all before a byte of the stream is accepted) → start the unpacker in .staging/<op>/ (btrfs
// receive reading a pipe) → stream: every chunk is checked (signed SHA-256, structure) before it is
// handed to the unpacker, the last one only after the length, the chunk count, the end of the
// stream and its special files checked out → wait for the unpacker → check the result → record the
// manifest → commit to apps/<app>/<version>. Nothing outside .staging changes before commit; any
// failure kills the unpacker and deletes .staging/<op> (with the partial subvolume). Decision 0010.
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { checkManifestSignature, type ReceiveArgs, type ReceiveResult, type ReleaseManifest, type SpecialReport } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError, isDiskFull } from "../errors";
import { faultPoint, pausePoint } from "../fault";
import type { StreamInput } from "../input";
import { clearIntent, newOpId, writeIntent } from "../journal/journal";
import type { Backend, Unpacker } from "../store/backend";
import { backendFor } from "../store/backends";
import { fsInfo } from "../store/detect";
import { fsyncDir, writeFileDurable } from "../store/fs-util";
import type { StoreLayout } from "../store/layout";
import { removeTree } from "../store/remove-tree";
import { streamVerified, StreamVerifier } from "../store/stage";
import { readMeta, type VersionMeta } from "../store/state";
import { loadTrustedKeys } from "../trusted-keys";

let last = performance.now();
/** KEEL_AGENT_TIMING=1 prints how long each receive step took (stderr), for the benchmark. */
function timing(step: string): void {
  if (!process.env.KEEL_AGENT_TIMING) return;
  const now = performance.now();
  const mem = process.memoryUsage();
  const mib = (n: number) => (n / 1048576).toFixed(0);
  process.stderr.write(`keel-agent timing ${step} ${(now - last).toFixed(0)} ms rss ${mib(mem.rss)} MiB heap ${mib(mem.heapTotal)} MiB buffers ${mib(mem.arrayBuffers)} MiB\n`);
  last = now;
}

function checkSignature(ctx: AgentContext, m: ReleaseManifest): void {
  const r = checkManifestSignature(m, loadTrustedKeys(ctx.trustedDir, "signature"));
  if (!r.ok) throw new AgentError(r.code, "signature", r.message);
}

/** Parent checks before any byte is accepted (RELIABILITY case 10). Returns the parent's path. */
function checkParent(layout: StoreLayout, m: ReleaseManifest): string | null {
  if (!m.parent) return null;
  const path = layout.version(m.app, m.parent.version);
  const meta = existsSync(path) ? readMeta(layout, m.app, m.parent.version) : null;
  if (!meta) {
    throw new AgentError("PARENT_MISSING", "parent", `${m.app} ${m.version} is an update from ${m.parent.version}, which is not installed on this host; send a full stream`);
  }
  if (meta.manifest.tree.sha256 !== m.parent.treeSha256 || (m.parent.uuid !== undefined && meta.receivedUuid !== m.parent.uuid)) {
    throw new AgentError("PARENT_MISMATCH", "parent", `the installed ${m.app} ${m.parent.version} is not the tree ${m.version} was built against; send a full stream`);
  }
  return path;
}

/** The installed tree a keel-delta-1 encoding refers to. */
function deltaBaseOf(layout: StoreLayout, m: ReleaseManifest, base: string | undefined): string {
  const version = base ?? m.parent?.version;
  if (!version) throw new AgentError("BAD_REQUEST", "parent", "a keel-delta-1 stream needs a base version (deltaBase) when the release has no parent");
  const path = layout.version(m.app, version);
  if (!existsSync(path) || !readMeta(layout, m.app, version)) {
    throw new AgentError("PARENT_MISSING", "parent", `the delta is encoded against ${m.app} ${version}, which is not installed on this host; send the stream without delta encoding`);
  }
  return path;
}

function checkSpecial(found: SpecialReport, m: ReleaseManifest, allowed: boolean): void {
  const kinds: [keyof SpecialReport, string][] = [
    ["setuid", "setuid/setgid files"],
    ["capabilities", "files with capabilities"],
    ["devices", "device nodes"],
  ];
  for (const [k, label] of kinds) {
    if (found[k].length === 0) continue;
    const declared = m.special?.[k] === true;
    if (!declared || !allowed) {
      throw new AgentError(
        "SPECIAL_FILES",
        "verify",
        `${m.app} ${m.version} contains ${label} (${found[k].slice(0, 3).join(", ")}${found[k].length > 3 ? ", …" : ""}) ${declared ? "and the request does not allow them" : "that the release does not declare"}`,
        { special: found },
      );
    }
  }
}

function mergeSpecial(a: SpecialReport, b: SpecialReport): SpecialReport {
  const u = (x: string[], y: string[]) => [...new Set([...x, ...y])].slice(0, 100);
  return { setuid: u(a.setuid, b.setuid), capabilities: u(a.capabilities, b.capabilities), devices: u(a.devices, b.devices) };
}

export async function receive(ctx: AgentContext, args: ReceiveArgs, input: StreamInput): Promise<ReceiveResult> {
  const { layout } = ctx;
  const m = args.manifest;
  checkSignature(ctx, m);
  const backend: Backend = backendFor(fsInfo(layout.root));
  if (m.stream.format !== backend.format) {
    throw new AgentError("WRONG_BACKEND", "backend", `this host's store uses the ${backend.name} backend, which takes ${backend.format} streams, not ${m.stream.format}`);
  }
  const existing = existsSync(layout.version(m.app, m.version)) ? readMeta(layout, m.app, m.version) : null;
  if (existing) {
    if (existing.manifest.tree.sha256 !== m.tree.sha256) {
      throw new AgentError("ALREADY_INSTALLED", "already-installed", `${m.app} ${m.version} is installed with different contents; remove it first`);
    }
    return result(m, backend, existing.receivedUuid, 0, 0, true, { setuid: [], capabilities: [], devices: [] });
  }
  const parentPath = checkParent(layout, m);
  const wire = args.wireEncoding ?? "raw";
  const deltaBasePath = wire === "raw" ? null : deltaBaseOf(layout, m, args.deltaBase);
  const free = fsInfo(layout.root).freeBytes;
  if (free < m.stream.bytes) {
    throw new AgentError("DISK_FULL", "receive", `the store has ${free} bytes free, the stream needs ${m.stream.bytes}; free space or remove old versions (gc)`);
  }

  timing("prepare");
  const op = newOpId();
  const opDir = layout.op(op);
  mkdirSync(opDir, { mode: 0o700 });
  writeIntent(layout, { kind: "receive", op, app: m.app, version: m.version });
  let unpacker: Unpacker | null = null;
  let committed = false;
  try {
    unpacker = await backend.unpacker({ opDir, manifest: m, parentPath });
    faultPoint("receive.started");
    const sink = unpacker;
    const inspector = backend.inspector(m, m.parent?.uuid ?? null);
    const verifier = new StreamVerifier(m, inspector);
    let special: SpecialReport = { setuid: [], capabilities: [], devices: [] };
    let first = true;
    // A file is read straight into the pipeline's buffer (raw wire encoding); other inputs as pieces.
    const file = wire === "raw" ? input.openFile?.() : undefined;
    const streamed = await streamVerified({
      ...(file ? { file } : { input: input.open() }),
      wire,
      deltaParentDir: deltaBasePath,
      manifest: m,
      verifier,
      // Before the last chunk is released: the end of the stream and its declared special files.
      endOfStream: () => {
        special = verifier.finish(() => inspector.finish());
        checkSpecial(special, m, args.allowSpecial === true);
        faultPoint("receive.verified");
      },
      sink,
      handedOff: async (bytes, last) => {
        ctx.progress(last ? "receive" : "verify", bytes, m.stream.bytes);
        if (!first) return;
        first = false;
        faultPoint("receive.mid-receive");
        await pausePoint("receive.mid-receive", opDir);
      },
    });
    timing("stream");

    const unpacked = await unpacker.finish();
    unpacker = null;
    timing("receive");
    special = mergeSpecial(special, await backend.check({ opDir, unpacked, manifest: m, parentPath }));
    checkSpecial(special, m, args.allowSpecial === true);
    faultPoint("receive.checked");
    timing("check");

    mkdirSync(layout.metaDir(m.app), { recursive: true, mode: 0o755 });
    const meta: VersionMeta = { manifest: m, receivedUuid: unpacked.receivedUuid, backend: backend.name, installedAt: new Date().toISOString() };
    writeFileDurable(layout.meta(m.app, m.version), JSON.stringify(meta) + "\n");
    faultPoint("receive.meta-written");
    await backend.commit(unpacked.treePath, layout.version(m.app, m.version));
    fsyncDir(layout.app(m.app));
    committed = true;
    faultPoint("receive.committed");
    timing("commit");
    return result(m, backend, unpacked.receivedUuid, streamed.bytes, streamed.wireBytes, false, special);
  } catch (e) {
    if (isDiskFull(e)) throw new AgentError("DISK_FULL", "receive", `no space left in the store while receiving ${m.app} ${m.version}: ${(e as Error).message}`);
    throw e;
  } finally {
    // A refused stream: btrfs receive is killed (and waited for) before its partial subvolume goes.
    await unpacker?.abort().catch(() => undefined);
    await removeTree(opDir, backend.name === "btrfs").catch(() => undefined);
    if (!committed) {
      try {
        if (!existsSync(layout.version(m.app, m.version))) unlinkSync(layout.meta(m.app, m.version));
      } catch {
        /* no metadata was written */
      }
    }
    clearIntent(layout, op);
    timing("cleanup");
  }
}

function result(
  m: ReleaseManifest,
  backend: Backend,
  receivedUuid: string | null,
  streamBytes: number,
  wireBytes: number,
  alreadyInstalled: boolean,
  special: SpecialReport,
): ReceiveResult {
  return {
    app: m.app,
    version: m.version,
    backend: backend.name,
    receivedUuid,
    files: m.tree.files,
    bytes: m.tree.bytes,
    streamBytes,
    wireBytes,
    alreadyInstalled,
    special,
  };
}
