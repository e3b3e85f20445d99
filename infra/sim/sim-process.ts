// A child process holding part of a SIMULATED fleet (api.ts forks it): started with the fleet's
// options over IPC, it answers the parent's calls (report, reset, faults, usage, close) by id.
import { startSimFleet, type SimFleet, type SimFleetOptions } from "./sim-fleet";

type Call =
  | { id: number; op: "start"; options: SimFleetOptions }
  | { id: number; op: "report"; app?: string }
  | { id: number; op: "reset" }
  | { id: number; op: "faults"; faults: SimFleetOptions["faults"] }
  | { id: number; op: "usage" }
  | { id: number; op: "close" };

let fleet: SimFleet | null = null;
const reply = (id: number, result: unknown, error?: string) => process.send!({ id, result, error });

process.on("message", (m: Call) => {
  void (async () => {
    try {
      switch (m.op) {
        case "start":
          fleet = await startSimFleet(m.options);
          return reply(m.id, fleet.hosts);
        case "report":
          return reply(m.id, fleet!.report(m.app));
        case "reset":
          return reply(m.id, fleet!.resetCounters());
        case "faults":
          return reply(m.id, fleet!.setFaults(m.faults!));
        case "usage":
          return reply(m.id, fleet!.usage());
        case "close":
          await fleet?.close();
          reply(m.id, null);
          return process.disconnect();
      }
    } catch (e) {
      reply(m.id, null, (e as Error).message);
    }
  })();
});
// The parent went away: do not linger with thousands of listening ports.
process.on("disconnect", () => process.exit(0));
