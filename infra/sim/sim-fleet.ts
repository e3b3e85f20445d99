// Many SIMULATED hosts in one process: one ssh2 Server per host on its own 127.0.0.1 port, each with
// its own host key, all sharing one event loop. The fleet counts every agent request per host and
// reports this process's own CPU, so a benchmark can tell the simulator's cost from the console's.
import { utils, type ParsedKey } from "ssh2";
import { parsePublicKey, type ReleaseManifest } from "@/agent/protocol";
import { SimAgent, emptyCounters, type HostCounters } from "./sim-agent";
import { NO_FAULTS, type SimFaults } from "./sim-faults";
import { newHostKey, startSimHost, type SimHost, type SimHostEntry } from "./sim-host";

export type SimFleetOptions = {
  count: number;
  /** Host names are `${prefix}${index}` with index zero-padded to 5 digits, from `first`. */
  prefix?: string;
  first?: number;
  authorizedKey: string;
  /** The digest the hosts' agents say hello with (the console's bundle, or the console uploads it). */
  agentSha256: string | null;
  /** Release-signing public keys (`keel-ed25519 …` lines) the hosts trust, as /etc/keel/trusted.d holds. */
  trustedKeys: string[];
  /** Releases every host holds at the start (the last one of each app current). */
  initial?: ReleaseManifest[];
  faults?: SimFaults;
};

export type HostReport = {
  name: string;
  counters: HostCounters;
  current: string | null;
  previous: string | null;
};

export type SimFleet = {
  hosts: SimHostEntry[];
  setFaults(f: SimFaults): void;
  /** Each host's counters since the last reset, and what is current for `app`. */
  report(app?: string): HostReport[];
  resetCounters(): void;
  /** This process's CPU (user + system, ms) and RSS. */
  usage(): { cpuMs: number; rss: number };
  close(): Promise<void>;
};

export async function startSimFleet(o: SimFleetOptions): Promise<SimFleet> {
  let faults = o.faults ?? NO_FAULTS;
  const key = utils.parseKey(o.authorizedKey);
  if (key instanceof Error) throw new Error(`the console's public key cannot be parsed: ${key.message}`);
  const authorizedKey = (Array.isArray(key) ? key[0] : key) as ParsedKey;
  const trusted = o.trustedKeys.map((l) => parsePublicKey(l));
  const hosts: SimHost[] = [];
  try {
    for (let i = 0; i < o.count; i++) {
      const name = `${o.prefix ?? "sim-"}${String((o.first ?? 1) + i).padStart(5, "0")}`;
      const agent = new SimAgent(name, o.agentSha256, trusted);
      for (const m of o.initial ?? []) agent.install(m, true);
      hosts.push(
        await startSimHost({ name, hostKey: newHostKey(), authorizedKey, agent, faults: () => faults }),
      );
    }
  } catch (e) {
    await Promise.all(hosts.map((h) => h.close()));
    throw e;
  }
  return {
    hosts: hosts.map((h) => h.entry),
    setFaults: (f) => void (faults = f),
    report: (app) =>
      hosts.map((h) => ({
        name: h.entry.name,
        counters: h.agent.counters,
        ...(app ? h.agent.currentOf(app) : { current: null, previous: null }),
      })),
    resetCounters: () => hosts.forEach((h) => (h.agent.counters = emptyCounters())),
    usage: () => {
      const c = process.cpuUsage();
      return { cpuMs: (c.user + c.system) / 1000, rss: process.memoryUsage().rss };
    },
    close: async () => void (await Promise.all(hosts.map((h) => h.close()))),
  };
}
