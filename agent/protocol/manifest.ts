// The release manifest: what a release is, how its stream is verified, and who signed it.
// Signed as ed25519 over MANIFEST_SIGNING_PREFIX + canonicalJson(manifest without `signature`).
import { canonicalJson } from "./canonical-json";
import { ProtocolInputError, arr, bool, int, obj, oneOf, opt, str } from "./check";
import { KEY_ID_PATTERN, signBytes, verifyBytes, type PublicKeyInfo, type SigningKey } from "./keys";
import { appNameProblem, versionProblem } from "./names";
import { MANIFEST_VERSIONS } from "./version";
import { validateExports, validateOnActivate, type ExportDecl, type OnActivate } from "./activation";
import { validateRequires, type RuntimeRequirement } from "./requires";

export const RELEASE_KINDS = ["app", "runtime", "rootfs"] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

/**
 * Stream formats. `btrfs-send` is a `btrfs send` stream (v1) for the btrfs backend;
 * `keel-tree-1` is Keel's own archive for the plain-directory backend (format and reader: agent/src/store/tree-stream.ts; docs/agent.md).
 */
export const STREAM_FORMATS = ["btrfs-send", "keel-tree-1"] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** Only uncompressed streams are signed; compression happens on the wire (see `wireEncoding`). */
export const STREAM_COMPRESSIONS = ["none"] as const;

export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
export const MAX_CHUNKS = 200_000;
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CREATED_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const MANIFEST_SIGNING_PREFIX = "keel-manifest-v1\n";

/**
 * Who an exec health check runs as. Absent (every manifest made before this field existed) or
 * "unprivileged": the agent's dedicated user `keel-check`, with no new privileges. "root" only
 * when the signed manifest says so; the console then shows it on the plan and the approval.
 */
export const RUN_AS = ["unprivileged", "root"] as const;
export type RunAs = (typeof RUN_AS)[number];

/** Run on the host after activation; failing it makes the console roll the host back. */
export type HealthCheck =
  | { type: "exec"; argv: string[]; timeoutMs: number; runAs?: RunAs }
  | { type: "http"; url: string; expectStatus: number; timeoutMs: number };

export interface ReleaseTree {
  /** Entries below the root of every type (directories, files, symlinks, …). */
  files: number;
  /** Sum of the sizes of regular files. */
  bytes: number;
  /**
   * Keel tree digest (agent/src/tree-digest.ts): paths, types, modes, owners, contents, link
   * targets, device numbers and (manifestVersion 2) extended attributes.
   */
  sha256: string;
  /**
   * manifestVersion 2: the same digest with file sizes instead of contents. Every receive checks
   * it against the received tree (a walk of every inode, extended attributes read from the kernel)
   * before the version is visible; `sha256` is checked at receive when the stream clones data.
   */
  metaSha256?: string;
}

export interface ReleaseStream {
  format: StreamFormat;
  compression: (typeof STREAM_COMPRESSIONS)[number];
  bytes: number;
  sha256: string;
  chunkSize: number;
  /** SHA-256 of each consecutive chunkSize bytes of the stream (the last may be shorter). */
  chunks: string[];
  /** btrfs-send: UUID of the sent subvolume; the received subvolume's "Received UUID" must equal it. */
  uuid?: string;
}

export interface ReleaseParent {
  version: string;
  /** btrfs-send: UUID the parent subvolume carries as "Received UUID" on the host. */
  uuid?: string;
  treeSha256: string;
}

/** What the release deliberately contains; anything undeclared of these kinds is refused. */
export interface ReleaseSpecial {
  setuid: boolean;
  /** File capabilities (the `security.capability` extended attribute). */
  capabilities: boolean;
  devices: boolean;
  /**
   * manifestVersion 2: the names of other privileged extended attributes the tree may carry
   * (`security.*` such as SELinux labels, `trusted.*`, `system.posix_acl_*`). `user.*` needs no
   * declaration; any other name is refused.
   */
  xattrs?: string[];
}

/** A privileged extended attribute name a manifest may declare in `special.xattrs`. */
export const DECLARABLE_XATTR =
  /^(security\.[A-Za-z0-9._-]{1,200}|trusted\.[A-Za-z0-9._-]{1,200}|system\.posix_acl_(access|default))$/;

/** A signed release manifest (manifestVersion 1 or 2; builders write 2). */
export interface ReleaseManifest {
  manifestVersion: (typeof MANIFEST_VERSIONS)[number];
  app: string;
  version: string;
  kind: ReleaseKind;
  /** RFC 3339 UTC, e.g. 2026-11-26T18:00:00Z. */
  created: string;
  /** Key id (agent/protocol/keys.ts) of the signing key. */
  signer: string;
  tree: ReleaseTree;
  stream: ReleaseStream;
  parent?: ReleaseParent;
  healthCheck?: HealthCheck;
  special?: ReleaseSpecial;
  /** Run after `current` moves to this version (agent/protocol/activation.ts). */
  onActivate?: OnActivate;
  /** Files of the tree linked into allow-listed host directories through `current`. */
  exports?: ExportDecl[];
  /** Kind app only: runtimes the app needs on the host (agent/protocol/requires.ts). */
  requires?: RuntimeRequirement[];
  /** base64 ed25519 signature over manifestSigningBytes(manifest). */
  signature: string;
}

export type UnsignedManifest = Omit<ReleaseManifest, "signature">;

const MANIFEST_FIELDS = [
  "manifestVersion",
  "app",
  "version",
  "kind",
  "created",
  "signer",
  "tree",
  "stream",
  "parent",
  "healthCheck",
  "special",
  "signature",
  "requires",
  "onActivate",
  "exports",
] as const;

function name(v: unknown, path: string, problem: (x: unknown) => string | null): string {
  const p = problem(v);
  if (p) throw new ProtocolInputError(path, p);
  return v as string;
}

/** True when the check runs as root on the host (only when its manifest says `runAs: "root"`). */
export function runsAsRoot(h: HealthCheck | undefined | null): boolean {
  return h?.type === "exec" && h.runAs === "root";
}

/** Validates a health check (as in a manifest's `healthCheck`); `path` names it in errors. */
export function validateHealthCheck(v: unknown, path = "healthCheck"): HealthCheck {
  const type = oneOf((v as { type?: unknown } | null)?.type, `${path}.type`, ["exec", "http"]);
  if (type === "exec") {
    const o = obj(v, path, ["type", "argv", "timeoutMs", "runAs"]);
    const argv = arr(o.argv, `${path}.argv`, 64, (x, p) => str(x, p, { min: 1, max: 4096 }));
    if (argv.length === 0) throw new ProtocolInputError(`${path}.argv`, "must not be empty");
    const check: HealthCheck = { type, argv, timeoutMs: int(o.timeoutMs, `${path}.timeoutMs`, 1, 3_600_000) };
    // Kept exactly as given (also "unprivileged"): the signature covers the manifest's bytes.
    if (o.runAs !== undefined) check.runAs = oneOf(o.runAs, `${path}.runAs`, RUN_AS);
    return check;
  }
  const o = obj(v, path, ["type", "url", "expectStatus", "timeoutMs"]);
  const url = str(o.url, `${path}.url`, { max: 2048, pattern: /^https?:\/\/[^\s]+$/ });
  return {
    type,
    url,
    expectStatus: int(o.expectStatus, `${path}.expectStatus`, 100, 599),
    timeoutMs: int(o.timeoutMs, `${path}.timeoutMs`, 1, 3_600_000),
  };
}

/** Checks shape and internal consistency (not the signature). Returns a clean copy. */
export function validateManifest(v: unknown): ReleaseManifest {
  const o = obj(v, "manifest", MANIFEST_FIELDS);
  const version = MANIFEST_VERSIONS.find((x) => x === o.manifestVersion);
  if (version === undefined) {
    throw new ProtocolInputError(
      "manifest.manifestVersion",
      `must be one of ${MANIFEST_VERSIONS.join(", ")}`,
    );
  }
  const t = obj(
    o.tree,
    "manifest.tree",
    version === 1 ? ["files", "bytes", "sha256"] : ["files", "bytes", "sha256", "metaSha256"],
  );
  const s = obj(o.stream, "manifest.stream", [
    "format",
    "compression",
    "bytes",
    "sha256",
    "chunkSize",
    "chunks",
    "uuid",
  ]);
  const stream: ReleaseStream = {
    format: oneOf(s.format, "manifest.stream.format", STREAM_FORMATS),
    compression: oneOf(s.compression, "manifest.stream.compression", STREAM_COMPRESSIONS),
    bytes: int(s.bytes, "manifest.stream.bytes", 1),
    sha256: str(s.sha256, "manifest.stream.sha256", { pattern: SHA256_PATTERN }),
    chunkSize: int(s.chunkSize, "manifest.stream.chunkSize", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
    chunks: arr(s.chunks, "manifest.stream.chunks", MAX_CHUNKS, (x, p) =>
      str(x, p, { pattern: SHA256_PATTERN }),
    ),
    uuid: opt(s.uuid, (x) => str(x, "manifest.stream.uuid", { pattern: UUID_PATTERN })),
  };
  if (stream.uuid === undefined) delete stream.uuid;
  if (stream.chunks.length !== Math.ceil(stream.bytes / stream.chunkSize)) {
    throw new ProtocolInputError("manifest.stream.chunks", "count does not match bytes / chunkSize");
  }
  if (stream.format === "btrfs-send" && !stream.uuid) {
    throw new ProtocolInputError("manifest.stream.uuid", "is required for btrfs-send streams");
  }
  const m: ReleaseManifest = {
    manifestVersion: version,
    app: name(o.app, "manifest.app", appNameProblem),
    version: name(o.version, "manifest.version", versionProblem),
    kind: oneOf(o.kind, "manifest.kind", RELEASE_KINDS),
    created: str(o.created, "manifest.created", { pattern: CREATED_PATTERN }),
    signer: str(o.signer, "manifest.signer", { pattern: KEY_ID_PATTERN }),
    tree: {
      files: int(t.files, "manifest.tree.files"),
      bytes: int(t.bytes, "manifest.tree.bytes"),
      sha256: str(t.sha256, "manifest.tree.sha256", { pattern: SHA256_PATTERN }),
      ...(version === 2
        ? { metaSha256: str(t.metaSha256, "manifest.tree.metaSha256", { pattern: SHA256_PATTERN }) }
        : {}),
    },
    stream,
    signature: str(o.signature, "manifest.signature", { pattern: /^[A-Za-z0-9+/]{86}==$/ }),
  };
  if (o.parent !== undefined) {
    const p = obj(o.parent, "manifest.parent", ["version", "uuid", "treeSha256"]);
    m.parent = {
      version: name(p.version, "manifest.parent.version", versionProblem),
      treeSha256: str(p.treeSha256, "manifest.parent.treeSha256", { pattern: SHA256_PATTERN }),
    };
    if (p.uuid !== undefined) m.parent.uuid = str(p.uuid, "manifest.parent.uuid", { pattern: UUID_PATTERN });
    if (stream.format === "btrfs-send" && !m.parent.uuid) {
      throw new ProtocolInputError("manifest.parent.uuid", "is required for incremental btrfs-send streams");
    }
    if (m.parent.version === m.version)
      throw new ProtocolInputError("manifest.parent.version", "must differ from version");
  }
  if (o.healthCheck !== undefined) m.healthCheck = validateHealthCheck(o.healthCheck, "manifest.healthCheck");
  if (o.onActivate !== undefined) m.onActivate = validateOnActivate(o.onActivate, "manifest.onActivate");
  if (o.exports !== undefined) m.exports = validateExports(o.exports, "manifest.exports");
  if (o.special !== undefined) {
    const sp = obj(
      o.special,
      "manifest.special",
      version === 1 ? ["setuid", "capabilities", "devices"] : ["setuid", "capabilities", "devices", "xattrs"],
    );
    m.special = {
      setuid: bool(sp.setuid, "manifest.special.setuid"),
      capabilities: bool(sp.capabilities, "manifest.special.capabilities"),
      devices: bool(sp.devices, "manifest.special.devices"),
    };
    if (sp.xattrs !== undefined) {
      m.special.xattrs = arr(sp.xattrs, "manifest.special.xattrs", 64, (x, p) =>
        str(x, p, { pattern: DECLARABLE_XATTR }),
      );
    }
  }
  if (o.requires !== undefined) m.requires = validateRequires(o.requires, "manifest.requires");
  if (m.requires && m.kind !== "app")
    throw new ProtocolInputError(
      "manifest.requires",
      `only apps require runtimes (this release is a ${m.kind})`,
    );
  return m;
}

/** The exact bytes an ed25519 signature covers. */
export function manifestSigningBytes(m: UnsignedManifest | ReleaseManifest): Buffer {
  const { signature: _omit, ...unsigned } = m as ReleaseManifest;
  return Buffer.from(MANIFEST_SIGNING_PREFIX + canonicalJson(unsigned), "utf8");
}

export function signManifest(m: Omit<UnsignedManifest, "signer">, key: SigningKey): ReleaseManifest {
  const unsigned = { ...m, signer: key.keyId } as UnsignedManifest;
  return { ...unsigned, signature: signBytes(manifestSigningBytes(unsigned), key) };
}

export type SignatureCheck =
  { ok: true; key: PublicKeyInfo } | { ok: false; code: "UNTRUSTED_KEY" | "BAD_SIGNATURE"; message: string };

/** Checks the signature against the trusted keys (looked up by the manifest's signer key id). */
export function checkManifestSignature(
  m: ReleaseManifest,
  trusted: readonly PublicKeyInfo[],
): SignatureCheck {
  const key = trusted.find((k) => k.keyId === m.signer);
  if (!key) {
    return {
      ok: false,
      code: "UNTRUSTED_KEY",
      message: `release ${m.app} ${m.version} is signed by key ${m.signer}, which this host does not trust`,
    };
  }
  if (!verifyBytes(manifestSigningBytes(m), m.signature, key.key)) {
    return {
      ok: false,
      code: "BAD_SIGNATURE",
      message: `the signature of release ${m.app} ${m.version} does not verify with key ${m.signer}`,
    };
  }
  return { ok: true, key };
}

/** Serialises a manifest for files and the wire (canonical form, so it round-trips byte-exact). */
export function formatManifest(m: ReleaseManifest): string {
  return canonicalJson(m) + "\n";
}
