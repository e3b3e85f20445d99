// The SIMULATED fleet, spread over child processes (docs/decisions/0028-fleet-simulator.md): each
// holds `count / processes` hosts (sim-fleet.ts), so the simulator can use every core and report
// its own CPU apart from the console's. Every figure made with it must be labeled "simulated".
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { HostReport, SimFleetOptions } from "./sim-fleet";
import type { SimFaults } from "./sim-faults";
import type { SimHostEntry } from "./sim-host";

export type { HostReport } from "./sim-fleet";
export type { SimFaults } from "./sim-faults";
export type { SimHostEntry } from "./sim-host";

export type SimFleetProcesses = {
  hosts: SimHostEntry[];
  pids: number[];
  report(app?: string): Promise<HostReport[]>;
  resetCounters(): Promise<void>;
  setFaults(f: SimFaults): Promise<void>;
  /** CPU (ms, all simulator processes together) and the largest RSS of one of them. */
  usage(): Promise<{ cpuMs: number; rss: number }>;
  close(): Promise<void>;
};

type Child = { proc: ChildProcess; call<T>(op: string, extra?: object): Promise<T> };

function spawnChild(): Child {
  const proc = fork(join(__dirname, "sim-process.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  proc.on("message", (m: { id: number; result: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w?.reject(new Error(`simulator process ${proc.pid}: ${m.error}`));
    else w?.resolve(m.result);
  });
  proc.on("exit", (code, sig) => {
    for (const w of waiting.values())
      w.reject(new Error(`simulator process ${proc.pid} exited (${code ?? sig})`));
    waiting.clear();
  });
  return {
    proc,
    call: <T>(op: string, extra: object = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, op, ...extra });
      }),
  };
}

export async function startSimFleetProcesses(
  o: Omit<SimFleetOptions, "first"> & { processes?: number },
): Promise<SimFleetProcesses> {
  const n = Math.max(1, Math.min(o.processes ?? 1, o.count));
  const children = Array.from({ length: n }, spawnChild);
  const per = Math.ceil(o.count / n);
  const close = async () =>
    void (await Promise.all(
      children.map((c) =>
        c.call("close").catch(() => {
          c.proc.kill("SIGKILL");
        }),
      ),
    ));
  try {
    const parts = await Promise.all(
      children.map((c, i) =>
        c.call<SimHostEntry[]>("start", {
          options: { ...o, first: 1 + i * per, count: Math.max(0, Math.min(per, o.count - i * per)) },
        }),
      ),
    );
    const all = async <T>(op: string, extra?: object) =>
      Promise.all(children.map((c) => c.call<T>(op, extra)));
    return {
      hosts: parts.flat(),
      pids: children.map((c) => c.proc.pid!),
      report: async (app) => (await all<HostReport[]>("report", { app })).flat(),
      resetCounters: async () => void (await all("reset")),
      setFaults: async (faults) => void (await all("faults", { faults })),
      usage: async () => {
        const u = await all<{ cpuMs: number; rss: number }>("usage");
        return { cpuMs: u.reduce((a, x) => a + x.cpuMs, 0), rss: Math.max(...u.map((x) => x.rss)) };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
