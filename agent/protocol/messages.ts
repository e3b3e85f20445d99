// Requests and responses of every agent command, the facts shape, and their validators.
// The same shapes are used by the CLI (arguments → args, result/error → stdout JSON) and by
// `keel-agent serve` (JSON frames, see framing.ts).
import { ProtocolInputError, bool, int, obj, oneOf, opt, str } from "./check";
import type { AgentErrorBody } from "./errors";
import {
  validateActivation,
  type Activation,
  type ExportFact,
  type HookArgs,
  type HookResult,
} from "./activation";
import {
  validateHealthCheck,
  validateManifest,
  RELEASE_KINDS,
  STREAM_FORMATS,
  type HealthCheck,
  type ReleaseKind,
  type ReleaseManifest,
  type StreamFormat,
} from "./manifest";
import { appNameProblem, versionProblem } from "./names";
import { PROTOCOL_VERSION } from "./version";
import { takeSectionArg, validateRequires, type RuntimeRequirement, type SectionArg } from "./requires";

export const COMMANDS = [
  "facts",
  "version",
  "receive",
  "activate",
  "rollback",
  "remove",
  "gc",
  "verify",
  "health",
  "keygen",
  "build",
  "hook",
] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * Wire encodings of a receive's data: the signed stream as is, or Keel's delta (agent/protocol/delta);
 * keel-z1 and keel-delta-1z are their compressed forms (agent/protocol/wire, decision 0030); keel-delta-2
 * a format-2 delta (decision 0040), keel-delta-c the same with a compact header (decision 0044).
 */
export const WIRE_ENCODINGS = [
  "raw",
  "keel-delta-1",
  "keel-z1",
  "keel-delta-1z",
  "keel-delta-2",
  "keel-delta-c",
] as const;
export type WireEncoding = (typeof WIRE_ENCODINGS)[number];

export type FactsArgs = Record<string, never>;
export type VersionArgs = Record<string, never>;
/** receive: in `serve`, the stream follows as DATA frames after the agent answers `ready`. */
export interface ReceiveArgs {
  manifest: ReleaseManifest;
  wireEncoding?: WireEncoding;
  /**
   * keel-delta-1 only: the installed version whose tree the delta was encoded against.
   * Defaults to manifest.parent.version (required when the manifest has no parent).
   */
  deltaBase?: string;
  /** The console's policy allows setuid files / capabilities / devices the release declares. */
  allowSpecial?: boolean;
}
export interface ActivateArgs extends SectionArg {
  app: string;
  version: string;
  /** Allow activating a version older than current (an explicit, approved rollback). */
  rollback?: boolean;
}
export interface RollbackArgs extends SectionArg {
  app: string;
}
export interface RemoveArgs extends SectionArg {
  app: string;
  version: string;
}
export interface GcArgs extends SectionArg {
  app?: string;
  /** How many versions to keep per app (current and previous are always kept). */
  keep: number;
}
export interface VerifyArgs extends SectionArg {
  app: string;
  version?: string;
}
/** health: run the health check recorded in the installed version's signed manifest (never one sent by the caller). */
export interface HealthArgs extends SectionArg {
  app: string;
  /** Defaults to the current version. */
  version?: string;
}
export interface KeygenArgs {
  /** Directory to write `<name>.key` (PKCS#8, mode 0600) and `<name>.pub` into. */
  out: string;
  name: string;
}
export interface BuildArgs {
  from: string;
  app: string;
  version: string;
  parent?: string;
  key: string;
  out: string;
  kind?: ReleaseKind;
  format?: StreamFormat;
  /** Recorded in every manifest of the build (run on hosts after activation). */
  healthCheck?: HealthCheck;
  /** onActivate and exports, recorded in every manifest of the build (agent/protocol/activation.ts). */
  activation?: Activation;
  requires?: RuntimeRequirement[];
}

export interface CommandArgs {
  facts: FactsArgs;
  version: VersionArgs;
  receive: ReceiveArgs;
  activate: ActivateArgs;
  rollback: RollbackArgs;
  remove: RemoveArgs;
  gc: GcArgs;
  verify: VerifyArgs;
  health: HealthArgs;
  keygen: KeygenArgs;
  build: BuildArgs;
  hook: HookArgs;
}

export type StoreBackend = "btrfs" | "plain";

export interface VersionFacts {
  version: string;
  kind: ReleaseKind;
  /** Entries and regular-file bytes of the tree (from the verified manifest). */
  files: number;
  bytes: number;
  treeSha256: string;
  /** btrfs "Received UUID" (null on the plain backend). */
  receivedUuid: string | null;
  created: string;
  signer: string;
  readOnly: boolean;
  isCurrent: boolean;
  isPrevious: boolean;
  /** Kind app: the runtimes its signed manifest requires. */
  requires?: RuntimeRequirement[];
}

export interface AppFacts {
  app: string;
  current: string | null;
  previous: string | null;
  /** Oldest first (compareVersions order). */
  versions: VersionFacts[];
  /** Files linked into host directories through `current` (absent when none). */
  exports?: ExportFact[];
}

/** Result of `facts`: everything inventory needs about one host. */
export interface Facts {
  agent: { version: string; protocolVersion: number; sha256: string | null };
  host: {
    hostname: string;
    machineId: string | null;
    os: { id: string | null; versionId: string | null; prettyName: string | null };
    kernel: string;
    arch: string;
    cpu: { model: string; cores: number };
    memoryBytes: number;
    uptimeSeconds: number;
  };
  store: { path: string; backend: StoreBackend; fsType: string; sizeBytes: number; freeBytes: number };
  apps: AppFacts[];
  /** Runtimes (runtimes/<name>/<version>), like apps; absent from agents before runtimes. */
  runtimes?: AppFacts[];
  /** Key ids of the release-signing keys this host trusts (valid files in the trusted directory). */
  trustedKeys?: string[];
}

export interface VersionResult {
  agentVersion: string;
  protocolVersion: number;
  sha256: string | null;
  node: string;
}

/** Setuid/setgid files, files with capabilities and device nodes found in a release (first 100 of each). */
export interface SpecialReport {
  setuid: string[];
  /** "path (cap_net_bind_service+ep)" */
  capabilities: string[];
  devices: string[];
  /** Privileged extended attributes other than capabilities, "path (security.selinux)". */
  xattrs?: string[];
}

export interface ReceiveResult {
  app: string;
  version: string;
  backend: StoreBackend;
  receivedUuid: string | null;
  files: number;
  bytes: number;
  /** Bytes of the signed stream. */
  streamBytes: number;
  /** Bytes that arrived (differs from streamBytes with a wire encoding). */
  wireBytes: number;
  /** The same manifest was installed already; nothing was received. */
  alreadyInstalled: boolean;
  special: SpecialReport;
}

export interface ActivateResult {
  app: string;
  current: string;
  previous: string | null;
  /** False when the version was current already (idempotent repeat). */
  changed: boolean;
}

export type RollbackResult = ActivateResult;

export interface RemoveResult {
  app: string;
  version: string;
  /** False when it was not installed (idempotent repeat). */
  removed: boolean;
}

export interface GcResult {
  removed: { app: string; version: string; kind?: "runtime" }[];
}

export interface VerifyResult {
  app: string;
  versions: { version: string; files: number; bytes: number; treeSha256: string }[];
}

export interface HealthResult {
  app: string;
  version: string;
  /** False when the version's manifest declares no health check (nothing ran). */
  ran: boolean;
  ok: boolean;
  /** exec: "exit N" / "killed after the timeout"; http: "status N" / the fetch error. */
  outcome: string;
  durationMs: number;
  /** The check's stderr (exec) or response body (http), trimmed to 2 KiB. */
  output: string;
  /** exec: the user it ran as — `keel-check` unless its manifest says `runAs: "root"`. */
  user?: string;
}

export interface KeygenResult {
  keyId: string;
  publicKey: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

export interface BuiltStream {
  manifestPath: string;
  streamPath: string;
  bytes: number;
  parent: string | null;
}

export interface BuildResult {
  app: string;
  version: string;
  format: StreamFormat;
  full: BuiltStream;
  incremental: BuiltStream | null;
  tree: { files: number; bytes: number; sha256: string };
}

export interface CommandResults {
  facts: Facts;
  version: VersionResult;
  receive: ReceiveResult;
  activate: ActivateResult;
  rollback: RollbackResult;
  remove: RemoveResult;
  gc: GcResult;
  verify: VerifyResult;
  health: HealthResult;
  hook: HookResult;
  keygen: KeygenResult;
  build: BuildResult;
}

/** A request in `serve`. `id` is echoed in every event and the response. */
export interface AgentRequest<C extends Command = Command> {
  protocolVersion: number;
  id: string;
  command: C;
  args: CommandArgs[C];
}

export type AgentResponse<C extends Command = Command> =
  | { protocolVersion: number; id: string; ok: true; result: CommandResults[C] }
  | { protocolVersion: number; id: string; ok: false; error: AgentErrorBody };

/**
 * Events the agent sends before a response: `hello` once when serve starts (id ""),
 * `ready` when a receive may start sending DATA frames, `progress` during long steps.
 */
export type AgentEvent =
  | {
      protocolVersion: number;
      id: "";
      event: "hello";
      agentVersion: string;
      agentSha256: string | null;
      pid: number;
      /** Compressed wire forms this agent accepts (agent/protocol/wire/features.ts); absent before them. */
      wire?: readonly string[];
    }
  | { protocolVersion: number; id: string; event: "ready" }
  | {
      protocolVersion: number;
      id: string;
      event: "progress";
      step: string;
      bytes: number;
      totalBytes: number | null;
    };

export type AgentMessage = AgentResponse | AgentEvent;

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const PATH_ARG = { min: 1, max: 4096, pattern: /^[^\0\n]+$/ };

function app(v: unknown, path: string): string {
  const p = appNameProblem(v);
  if (p) throw new ProtocolInputError(path, p);
  return v as string;
}
function version(v: unknown, path: string): string {
  const p = versionProblem(v);
  if (p) throw new ProtocolInputError(path, p);
  return v as string;
}

/** Validates one command's args (also used by the CLI after parsing its flags). */
export function validateArgs<C extends Command>(command: C, v: unknown): CommandArgs[C] {
  return takeSectionArg(command, v, (rest) => validateCommandArgs(command, rest)) as CommandArgs[C];
}

function validateCommandArgs<C extends Command>(command: C, v: unknown): CommandArgs[C] {
  const a = v === undefined ? {} : v;
  const p = "args";
  switch (command) {
    case "facts":
    case "version":
      obj(a, p, []);
      return {} as CommandArgs[C];
    case "receive": {
      const o = obj(a, p, ["manifest", "wireEncoding", "deltaBase", "allowSpecial"]);
      const r: ReceiveArgs = { manifest: validateManifest(o.manifest) };
      const w = opt(o.wireEncoding, (x) => oneOf(x, `${p}.wireEncoding`, WIRE_ENCODINGS));
      if (w) r.wireEncoding = w;
      if (o.deltaBase !== undefined) r.deltaBase = version(o.deltaBase, `${p}.deltaBase`);
      const s = opt(o.allowSpecial, (x) => bool(x, `${p}.allowSpecial`));
      if (s !== undefined) r.allowSpecial = s;
      return r as CommandArgs[C];
    }
    case "activate": {
      const o = obj(a, p, ["app", "version", "rollback"]);
      const r: ActivateArgs = { app: app(o.app, `${p}.app`), version: version(o.version, `${p}.version`) };
      const rb = opt(o.rollback, (x) => bool(x, `${p}.rollback`));
      if (rb !== undefined) r.rollback = rb;
      return r as CommandArgs[C];
    }
    case "rollback": {
      const o = obj(a, p, ["app"]);
      return { app: app(o.app, `${p}.app`) } as CommandArgs[C];
    }
    case "remove": {
      const o = obj(a, p, ["app", "version"]);
      return { app: app(o.app, `${p}.app`), version: version(o.version, `${p}.version`) } as CommandArgs[C];
    }
    case "gc": {
      const o = obj(a, p, ["app", "keep"]);
      const r: GcArgs = { keep: int(o.keep, `${p}.keep`, 2, 10_000) };
      if (o.app !== undefined) r.app = app(o.app, `${p}.app`);
      return r as CommandArgs[C];
    }
    case "verify": {
      const o = obj(a, p, ["app", "version"]);
      const r: VerifyArgs = { app: app(o.app, `${p}.app`) };
      if (o.version !== undefined) r.version = version(o.version, `${p}.version`);
      return r as CommandArgs[C];
    }
    case "hook":
    case "health": {
      const o = obj(a, p, ["app", "version"]);
      const r: HealthArgs = { app: app(o.app, `${p}.app`) };
      if (o.version !== undefined) r.version = version(o.version, `${p}.version`);
      return r as CommandArgs[C];
    }
    case "keygen": {
      const o = obj(a, p, ["out", "name"]);
      return {
        out: str(o.out, `${p}.out`, PATH_ARG),
        name: str(o.name, `${p}.name`, { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/ }),
      } as CommandArgs[C];
    }
    case "build": {
      const o = obj(a, p, [
        "from",
        "app",
        "version",
        "parent",
        "key",
        "out",
        "kind",
        "format",
        "healthCheck",
        "requires",
        "activation",
      ]);
      const r: BuildArgs = {
        from: str(o.from, `${p}.from`, PATH_ARG),
        app: app(o.app, `${p}.app`),
        version: version(o.version, `${p}.version`),
        key: str(o.key, `${p}.key`, PATH_ARG),
        out: str(o.out, `${p}.out`, PATH_ARG),
      };
      if (o.parent !== undefined) r.parent = version(o.parent, `${p}.parent`);
      if (o.kind !== undefined) r.kind = oneOf(o.kind, `${p}.kind`, RELEASE_KINDS);
      if (o.format !== undefined) r.format = oneOf(o.format, `${p}.format`, STREAM_FORMATS);
      if (o.healthCheck !== undefined) r.healthCheck = validateHealthCheck(o.healthCheck, `${p}.healthCheck`);
      if (o.activation !== undefined) r.activation = validateActivation(o.activation, `${p}.activation`);
      if (o.requires !== undefined) r.requires = validateRequires(o.requires, `${p}.requires`);
      return r as CommandArgs[C];
    }
    default:
      throw new ProtocolInputError("command", `unknown command ${JSON.stringify(command)}`);
  }
}

/** Validates a request envelope from the wire. Throws ProtocolInputError. */
export function validateRequest(v: unknown): AgentRequest {
  const o = obj(v, "request", ["protocolVersion", "id", "command", "args"]);
  const protocolVersion = int(o.protocolVersion, "request.protocolVersion", 0, 1_000_000);
  const id = str(o.id, "request.id", { pattern: REQUEST_ID_PATTERN });
  const command = oneOf(o.command, "request.command", COMMANDS);
  return { protocolVersion, id, command, args: validateArgs(command, o.args) };
}

export function isProtocolCompatible(version: number): boolean {
  return version === PROTOCOL_VERSION;
}
