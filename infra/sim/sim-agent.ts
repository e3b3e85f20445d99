// SIMULATED keel-agent state for one host of the fleet simulator (docs/decisions/0028-fleet-simulator.md).
// Replies are built from the protocol's types (agent/protocol/messages.ts), not recorded: a host holds
// versions of apps (from the signed manifests it was given or received), `current` and `previous`, and
// answers facts, activate, rollback, hook and health as the real agent's contract says. Nothing is
// written anywhere: a receive counts the stream's bytes and keeps the manifest; it decodes no delta
// and checks no digest (the real agent's CPU on the host is not what the simulator measures); the
// manifest's signature is checked against the host's trusted keys, as the real agent does.
import {
  PROTOCOL_VERSION,
  compareVersions,
  type AgentErrorBody,
  type AgentErrorCode,
  checkManifestSignature,
  type AppFacts,
  type Command,
  type CommandArgs,
  type Facts,
  type PublicKeyInfo,
  type ReleaseManifest,
  type VersionFacts,
} from "@/agent/protocol";

export const SIM_AGENT_VERSION = "0.0.0-simulated";

/** What each host counts, per run (reset by the fleet between runs). */
export type HostCounters = {
  requests: number;
  byCommand: Partial<Record<Command, number>>;
  /** Receives whose stream arrived whole (END) and were installed. */
  received: number;
  /** activate/rollback requests that changed `current`. */
  changed: number;
  connections: number;
  dropped: number;
  injectedFailures: number;
};

export const emptyCounters = (): HostCounters => ({
  requests: 0,
  byCommand: {},
  received: 0,
  changed: 0,
  connections: 0,
  dropped: 0,
  injectedFailures: 0,
});

type App = { versions: Map<string, ReleaseManifest>; current: string | null; previous: string | null };

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
  body(): AgentErrorBody {
    return {
      code: this.code,
      step: this.step,
      message: this.message,
      retryable: this.code === "IO_ERROR" || this.code === "BUSY",
    };
  }
}

export class SimAgent {
  private readonly apps = new Map<string, App>();
  counters = emptyCounters();

  readonly trustedKeys: string[];

  constructor(
    readonly name: string,
    readonly agentSha256: string | null,
    private readonly trusted: readonly PublicKeyInfo[],
  ) {
    this.trustedKeys = trusted.map((k) => k.keyId);
  }

  /** The host holds this release (and makes it current when asked): the state a past receive left. */
  install(m: ReleaseManifest, makeCurrent: boolean): void {
    const a = this.app(m.app);
    a.versions.set(m.version, m);
    if (makeCurrent && a.current !== m.version) {
      a.previous = a.current;
      a.current = m.version;
    }
  }

  holds(app: string, version: string): ReleaseManifest | null {
    return this.apps.get(app)?.versions.get(version) ?? null;
  }

  currentOf(app: string): { current: string | null; previous: string | null } {
    const a = this.apps.get(app);
    return { current: a?.current ?? null, previous: a?.previous ?? null };
  }

  /** Checks a receive before `ready` (signer, parent, same version with another manifest). */
  checkReceive(args: CommandArgs["receive"]): { already: boolean } {
    const m = args.manifest;
    const sig = checkManifestSignature(m, this.trusted);
    if (!sig.ok) throw new AgentError(sig.code, "verify", `${sig.message} (${this.name})`);
    const have = this.holds(m.app, m.version);
    if (have) {
      if (have.signature === m.signature) return { already: true };
      throw new AgentError("ALREADY_INSTALLED", "receive", `${m.app} ${m.version} is installed differently`);
    }
    const base = args.deltaBase ?? m.parent?.version;
    if ((m.parent || args.wireEncoding === "keel-delta-1") && (!base || !this.holds(m.app, base)))
      throw new AgentError("PARENT_MISSING", "receive", `${m.app} ${base ?? "(none)"} is not installed`);
    return { already: false };
  }

  /** The stream arrived whole: the version is installed (not current). */
  finishReceive(args: CommandArgs["receive"], wireBytes: number) {
    const m = args.manifest;
    this.install(m, false);
    this.counters.received++;
    return {
      app: m.app,
      version: m.version,
      backend: "btrfs" as const,
      receivedUuid: m.stream.uuid ?? null,
      files: m.tree.files,
      bytes: m.tree.bytes,
      streamBytes: m.stream.bytes,
      wireBytes,
      alreadyInstalled: false,
      special: { setuid: [], capabilities: [], devices: [] },
    };
  }

  alreadyReceived(args: CommandArgs["receive"]) {
    return { ...this.finishReceive(args, 0), alreadyInstalled: true };
  }

  /** Every command but receive (which streams, see sim-session.ts). */
  answer(command: Command, args: unknown): unknown {
    switch (command) {
      case "facts":
        return this.facts();
      case "version":
        return {
          agentVersion: SIM_AGENT_VERSION,
          protocolVersion: PROTOCOL_VERSION,
          sha256: this.agentSha256,
          node: process.version,
        };
      case "activate": {
        const a = args as CommandArgs["activate"];
        const app = this.apps.get(a.app);
        if (!app?.versions.has(a.version))
          throw new AgentError(
            "NOT_FOUND",
            "activate",
            `${a.app} ${a.version} is not installed on ${this.name}`,
          );
        if (app.current === a.version)
          return { app: a.app, current: a.version, previous: app.previous, changed: false };
        if (app.current && compareVersions(a.version, app.current) < 0 && !a.rollback)
          throw new AgentError("REPLAY_REFUSED", "activate", `${a.version} is older than ${app.current}`);
        app.previous = app.current;
        app.current = a.version;
        this.counters.changed++;
        return { app: a.app, current: app.current, previous: app.previous, changed: true };
      }
      case "rollback": {
        const a = args as CommandArgs["rollback"];
        const app = this.apps.get(a.app);
        if (!app?.previous)
          throw new AgentError("NO_PREVIOUS", "rollback", `${a.app} has no previous version`);
        [app.current, app.previous] = [app.previous, app.current];
        this.counters.changed++;
        return { app: a.app, current: app.current!, previous: app.previous, changed: true };
      }
      case "hook":
      case "health": {
        const a = args as CommandArgs["health"];
        const version = a.version ?? this.apps.get(a.app)?.current;
        const m = version ? this.holds(a.app, version) : null;
        if (!m)
          throw new AgentError("NOT_FOUND", command, `${a.app} ${version ?? "current"} is not installed`);
        const declared = command === "hook" ? !!m.onActivate : !!m.healthCheck;
        const common = { app: a.app, version: m.version, ran: declared, ok: true, durationMs: 0 };
        return command === "hook"
          ? {
              ...common,
              outcome: declared ? "exit 0" : "nothing declared",
              exitCode: declared ? 0 : null,
              stderrTail: "",
              user: "keel-check",
            }
          : { ...common, outcome: declared ? "exit 0" : "nothing declared", output: "", user: "keel-check" };
      }
      default:
        throw new AgentError(
          "NOT_SUPPORTED",
          command,
          `the simulated host ${this.name} does not implement ${command}`,
        );
    }
  }

  facts(): Facts {
    const apps: AppFacts[] = [...this.apps.entries()].map(([app, a]) => ({
      app,
      current: a.current,
      previous: a.previous,
      versions: [...a.versions.values()]
        .sort((x, y) => compareVersions(x.version, y.version))
        .map((m): VersionFacts => ({
          version: m.version,
          kind: m.kind,
          files: m.tree.files,
          bytes: m.tree.bytes,
          treeSha256: m.tree.sha256,
          receivedUuid: m.stream.uuid ?? null,
          created: m.created,
          signer: m.signer,
          readOnly: true,
          isCurrent: a.current === m.version,
          isPrevious: a.previous === m.version,
        })),
    }));
    return {
      agent: { version: SIM_AGENT_VERSION, protocolVersion: PROTOCOL_VERSION, sha256: this.agentSha256 },
      host: {
        hostname: this.name,
        machineId: null,
        os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (simulated)" },
        kernel: "6.1.0-simulated",
        arch: "x64",
        cpu: { model: "simulated", cores: 2 },
        memoryBytes: 4 << 30,
        uptimeSeconds: 3600,
      },
      store: {
        path: "/var/lib/keel",
        backend: "btrfs",
        fsType: "btrfs",
        sizeBytes: 20 << 30,
        freeBytes: 10 << 30,
      },
      apps,
      runtimes: [],
      trustedKeys: this.trustedKeys,
    };
  }

  private app(name: string): App {
    let a = this.apps.get(name);
    if (!a) this.apps.set(name, (a = { versions: new Map(), current: null, previous: null }));
    return a;
  }
}
