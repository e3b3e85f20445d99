// `receive`: install one signed release into the store, without activating it.
// Order (each a named step in errors): signature → backend/parent/already-installed/space checks
// (all before a byte of the stream is accepted) → start the unpacker in .staging/<op>/ (btrfs
// receive reading a pipe) → stream: every chunk is checked (signed SHA-256, structure) before it is
// handed to the unpacker, the last one only after the length, the chunk count, the end of the
// stream and its special files checked out → wait for the unpacker → check the result → record the
// manifest → commit to apps/<app>/<version>. Nothing outside .staging changes before commit; any
// failure kills the unpacker and deletes .staging/<op> (with the partial subvolume). Decision 0010.
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import {
  checkManifestSignature,
  type ReceiveArgs,
  type ReceiveResult,
  type ReleaseManifest,
  type SpecialReport,
} from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError, isDiskFull } from "../errors";
import { faultPoint, pausePoint } from "../fault";
import type { StreamInput } from "../input";
import { isDeltaWire, pipelineInput } from "../wire-input";
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
import { timing } from "../timing";

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
    throw new AgentError(
      "PARENT_MISSING",
      "parent",
      `${m.app} ${m.version} is an update from ${m.parent.version}, which is not installed on this host; send a full stream`,
    );
  }
  if (
    meta.manifest.tree.sha256 !== m.parent.treeSha256 ||
    (m.parent.uuid !== undefined && meta.receivedUuid !== m.parent.uuid)
  ) {
    throw new AgentError(
      "PARENT_MISMATCH",
      "parent",
      `the installed ${m.app} ${m.parent.version} is not the tree ${m.version} was built against; send a full stream`,
    );
  }
  return path;
}

/** The installed tree a keel-delta-1 encoding refers to. */
function deltaBaseOf(layout: StoreLayout, m: ReleaseManifest, base: string | undefined): string {
  const version = base ?? m.parent?.version;
  if (!version)
    throw new AgentError(
      "BAD_REQUEST",
      "parent",
      "a keel-delta-1 stream needs a base version (deltaBase) when the release has no parent",
    );
  const path = layout.version(m.app, version);
  if (!existsSync(path) || !readMeta(layout, m.app, version)) {
    throw new AgentError(
      "PARENT_MISSING",
      "parent",
      `the delta is encoded against ${m.app} ${version}, which is not installed on this host; send the stream without delta encoding`,
    );
  }
  return path;
}

type Found = SpecialReport & { xattrNames?: ReadonlySet<string> };

/**
 * Special content must be declared by the signed manifest and allowed by the request. `step` is
 * "verify" for what the stream says and "check" for what the received tree holds.
 */
function checkSpecial(found: Found, m: ReleaseManifest, allowed: boolean, step: string): void {
  const name = `${m.app} ${m.version}`;
  const some = (xs: string[]) =>
    `${xs.slice(0, 3).join(", ")}${xs.length > 3 ? `, … (${xs.length}${xs.length >= 100 ? "+" : ""})` : ""}`;
  const refuse = (what: string, declared: boolean) => {
    throw new AgentError(
      "SPECIAL_FILES",
      step,
      `${name}: ${what}, which ${declared ? "the manifest declares but this request does not allow (--allow-special)" : "the manifest does not declare"}`,
      {
        special: {
          setuid: found.setuid,
          capabilities: found.capabilities,
          devices: found.devices,
          xattrs: found.xattrs ?? [],
        },
      },
    );
  };
  const sp = m.special;
  if (found.capabilities.length) {
    const [first] = found.capabilities;
    const m1 = /^(.*) \((.*)\)$/.exec(first!);
    const what = m1
      ? `the stream sets capability ${m1[2]} on ${m1[1]}`
      : `the stream sets capabilities on ${first}`;
    if (!sp?.capabilities || !allowed)
      refuse(
        found.capabilities.length > 1 ? `${what} (and ${found.capabilities.length - 1} more)` : what,
        sp?.capabilities === true,
      );
  }
  if (found.setuid.length && (!sp?.setuid || !allowed))
    refuse(`setuid/setgid files (${some(found.setuid)})`, sp?.setuid === true);
  if (found.devices.length && (!sp?.devices || !allowed))
    refuse(`device nodes (${some(found.devices)})`, sp?.devices === true);
  const xattrs = found.xattrs ?? [];
  if (xattrs.length) {
    const declared = new Set(sp?.xattrs ?? []);
    const undeclared = [...(found.xattrNames ?? [])].filter((x) => !declared.has(x));
    if (undeclared.length || !allowed)
      refuse(
        `privileged extended attributes ${some(xattrs)}${undeclared.length ? ` (${undeclared.slice(0, 5).join(", ")} not declared)` : ""}`,
        undeclared.length === 0,
      );
  }
}

function mergeSpecial(a: Found, b: Found): Found {
  const u = (x: string[] = [], y: string[] = []) => [...new Set([...x, ...y])].slice(0, 100);
  return {
    setuid: u(a.setuid, b.setuid),
    capabilities: u(a.capabilities, b.capabilities),
    devices: u(a.devices, b.devices),
    xattrs: u(a.xattrs, b.xattrs),
    xattrNames: new Set([...(a.xattrNames ?? []), ...(b.xattrNames ?? [])]),
  };
}

/** The free-space check before any byte: says by how much, and suggests gc only where it can help. */
function checkSpace(layout: StoreLayout, m: ReleaseManifest): void {
  const fs = fsInfo(layout.root);
  if (fs.freeBytes >= m.stream.bytes) return;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(n < 2 ** 30 ? 3 : 1)} GiB`;
  const short = m.stream.bytes - fs.freeBytes;
  const whole = fs.sizeBytes > 0 && m.stream.bytes > fs.sizeBytes;
  throw new AgentError(
    "DISK_FULL",
    "receive",
    `${m.app} ${m.version} declares a stream of ${m.stream.bytes} bytes (${gib(m.stream.bytes)}), which exceeds the store's free space of ${fs.freeBytes} bytes by ${short} bytes (${gib(short)})` +
      (whole
        ? `; it is larger than the whole store (${gib(fs.sizeBytes)}), so removing versions cannot make room`
        : `; free ${gib(short)} (e.g. remove old versions with gc) or grow the store`),
    { declaredBytes: m.stream.bytes, freeBytes: fs.freeBytes, shortBytes: short },
  );
}

export async function receive(
  ctx: AgentContext,
  args: ReceiveArgs,
  input: StreamInput,
): Promise<ReceiveResult> {
  const m = args.manifest;
  // Runtimes go to runtimes/<name>/<version>, everything else to apps/ (same rules, same checks).
  const layout = ctx.layout.forKind(m.kind);
  checkSignature(ctx, m);
  const backend: Backend = backendFor(fsInfo(layout.root));
  if (m.stream.format !== backend.format) {
    throw new AgentError(
      "WRONG_BACKEND",
      "backend",
      `this host's store uses the ${backend.name} backend, which takes ${backend.format} streams, not ${m.stream.format}`,
    );
  }
  const existing = existsSync(layout.version(m.app, m.version)) ? readMeta(layout, m.app, m.version) : null;
  if (existing) {
    if (existing.manifest.tree.sha256 !== m.tree.sha256) {
      throw new AgentError(
        "ALREADY_INSTALLED",
        "already-installed",
        `${m.app} ${m.version} is installed with different contents; remove it first`,
      );
    }
    return result(m, backend, existing.receivedUuid, 0, 0, true, {
      setuid: [],
      capabilities: [],
      devices: [],
    });
  }
  const parentPath = checkParent(layout, m);
  const wire = args.wireEncoding ?? "raw";
  const deltaBasePath = isDeltaWire(wire) ? deltaBaseOf(layout, m, args.deltaBase) : null;
  checkSpace(layout, m);

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
    const inspector = backend.inspector(m, m.parent?.uuid ?? null, parentPath);
    const verifier = new StreamVerifier(m, inspector);
    let special: Found = { setuid: [], capabilities: [], devices: [] };
    let streamClones = 0;
    let streamXattrNames: ReadonlySet<string> = new Set();
    let first = true;
    // A raw file is read straight into the pipeline's buffer; other inputs as pieces, compressed
    // wire forms decompressed on the way (wire-input.ts).
    const { wireBytes: compressedBytes, ...from } = pipelineInput(wire, input);
    const streamed = await streamVerified({
      ...from,
      deltaParentDir: deltaBasePath,
      manifest: m,
      verifier,
      // Before the last chunk is released: the end of the stream and its declared special files.
      endOfStream: () => {
        const inspected = verifier.finish(() => inspector.finish());
        streamClones = inspected.clones ?? 0;
        streamXattrNames = inspected.xattrNames ?? new Set();
        special = inspected;
        checkSpecial(special, m, args.allowSpecial === true, "verify");
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
    // The received tree as the kernel holds it: its own step, before anything is visible.
    special = mergeSpecial(
      special,
      await backend.check({ opDir, unpacked, manifest: m, parentPath, streamClones, streamXattrNames }),
    );
    checkSpecial(special, m, args.allowSpecial === true, "check");
    faultPoint("receive.checked");
    timing("check");

    mkdirSync(layout.metaDir(m.app), { recursive: true, mode: 0o755 });
    const meta: VersionMeta = {
      manifest: m,
      receivedUuid: unpacked.receivedUuid,
      backend: backend.name,
      installedAt: new Date().toISOString(),
    };
    writeFileDurable(layout.meta(m.app, m.version), JSON.stringify(meta) + "\n");
    faultPoint("receive.meta-written");
    await backend.commit(unpacked.treePath, layout.version(m.app, m.version));
    fsyncDir(layout.app(m.app));
    committed = true;
    faultPoint("receive.committed");
    timing("commit");
    const { xattrNames: _names, ...report } = special;
    const wireBytes = compressedBytes?.() ?? streamed.wireBytes;
    return result(m, backend, unpacked.receivedUuid, streamed.bytes, wireBytes, false, {
      ...report,
      xattrs: report.xattrs ?? [],
    });
  } catch (e) {
    if (isDiskFull(e))
      throw new AgentError(
        "DISK_FULL",
        "receive",
        `no space left in the store while receiving ${m.app} ${m.version}: ${(e as Error).message}`,
      );
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
