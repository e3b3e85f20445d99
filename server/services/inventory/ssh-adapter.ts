// The inventory's SSH port implemented over server/ssh: read a host key, collect facts through
// the agent (pooled connection pinned to the enrolled key; the resident agent when there is one,
// else `serve --resident`; the agent uploaded when its digest differs), install release-signing
// keys. Maps the agent's `Facts` to the inventory's shape.
import type { Facts } from "@/agent/protocol";
import { getEnv } from "@/server/env";
import {
  SshPool,
  fetchHostKeyFingerprint,
  installTrustedKeys,
  loadAgentBundle,
  openCheckedSession,
  type AgentBundle,
  type SshLimits,
  type SshTarget,
} from "@/server/ssh";
import type { CollectedFacts, HostConnection, InventorySsh } from "./types";

export type InventorySshOptions = {
  privateKey: string | Buffer;
  pool?: SshPool;
  /** The agent bundle to ensure on hosts; loaded from agent/dist when omitted. */
  bundle?: AgentBundle;
  limits?: Partial<SshLimits>;
  /** Upper bound for one host's facts collection (connect + ensure agent + facts). */
  timeoutMs?: number;
  /** Resident agents (docs/agent.md); default KEEL_AGENT_RESIDENT_SECONDS. */
  residentSeconds?: number;
};

export function toSshTarget(h: HostConnection, privateKey: string | Buffer): SshTarget {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKey,
    pinnedFingerprint: h.fingerprint,
    sudo: h.sudoMode === "sudo",
    forcedCommand: h.sudoMode === "forced-command",
  };
}

/** The agent's facts document → what the inventory stores. */
export function factsFromAgent(f: Facts): CollectedFacts {
  const os = f.host.os.prettyName ?? ([f.host.os.id, f.host.os.versionId].filter(Boolean).join(" ") || null);
  return {
    hostname: f.host.hostname,
    machineId: f.host.machineId,
    os,
    kernel: f.host.kernel,
    arch: f.host.arch,
    agentVersion: f.agent.version,
    cpuCount: f.host.cpu.cores,
    cpuModel: f.host.cpu.model,
    memoryBytes: f.host.memoryBytes,
    store: {
      backend: f.store.backend,
      totalBytes: f.store.sizeBytes,
      usedBytes: Math.max(0, f.store.sizeBytes - f.store.freeBytes),
    },
    // Runtimes (runtimes/ on the host) share the table, told apart by kind; a name that is also an
    // app on the host is left out (the console never gives an app and a runtime one name).
    apps: [...f.apps, ...(f.runtimes ?? []).filter((r) => !f.apps.some((a) => a.app === r.app))].map((a) => ({
      app: a.app,
      kind: a.versions.find((v) => v.version === a.current)?.kind ?? a.versions[0]?.kind ?? "app",
      current: a.current,
      previous: a.previous,
      versions: a.versions.map((v) => ({
        version: v.version,
        sizeBytes: v.bytes,
        receivedUuid: v.receivedUuid,
        createdAt: v.created,
        signer: v.signer,
      })),
    })),
    raw: { agent: f.agent, host: f.host, store: f.store },
  };
}

export function createInventorySsh(opts: InventorySshOptions): InventorySsh & { close(): Promise<void> } {
  const ownPool = !opts.pool;
  let bundle: Promise<AgentBundle> | null = null;
  const pool = opts.pool ?? new SshPool({ maxConnections: 128, idleTimeoutMs: 10_000, limits: opts.limits });
  const withTimeout = <T>(p: Promise<T>, host: string): Promise<T> => {
    const ms = opts.timeoutMs ?? 90_000;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () =>
          rej(
            Object.assign(new Error(`${host}: no facts within ${ms / 1000} s`), { code: "COMMAND_TIMEOUT" }),
          ),
        ms,
      );
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  };
  return {
    async fetchHostKey(t) {
      const r = await fetchHostKeyFingerprint(t, { limits: opts.limits });
      return { fingerprint: r.fingerprint, algorithm: r.keyType };
    },
    async collectFacts(h) {
      const target = toSshTarget(h, opts.privateKey);
      return withTimeout(
        pool.withConnection(target, async (conn) => {
          // The session's hello carries the agent's digest (no separate check); a resident agent
          // answers without anything being started on the host.
          const { session } = await openCheckedSession(conn, {
            bundle: await (bundle ??= opts.bundle ? Promise.resolve(opts.bundle) : loadAgentBundle()),
            timeoutMs: opts.timeoutMs ?? 90_000,
            residentSeconds: opts.residentSeconds ?? getEnv().KEEL_AGENT_RESIDENT_SECONDS,
          });
          try {
            return factsFromAgent(await session.request("facts", {}));
          } finally {
            void session.close().catch(() => undefined);
          }
        }),
        h.name,
      );
    },
    async installTrustedKeys(h, keys) {
      const target = toSshTarget(h, opts.privateKey);
      await pool.withConnection(target, (conn) =>
        installTrustedKeys(
          conn,
          keys.map((k) => k.publicKeyLine),
        ),
      );
    },
    async close() {
      if (ownPool) await pool.close();
    },
  };
}
