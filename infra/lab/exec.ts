// Running a command inside a lab host's namespaces (network, mount, UTS), as root.
import { existsSync } from "node:fs";
import { LabError, hostPaths, labPaths, parseHostRef, type HostPaths } from "./names";
import { isMountPoint } from "./ns";
import { run, type RunResult } from "./run";

export function resolveHost(lab: string, host: string | number): HostPaths {
  const p = labPaths(lab);
  const h = hostPaths(p, typeof host === "number" ? host : parseHostRef(lab, host));
  if (!existsSync(`/run/netns/${h.netns}`) || !isMountPoint(h.mntNs))
    throw new LabError(`lab host ${h.name} is not up (run \`npm run lab -- up N --lab ${lab}\`)`);
  return h;
}

export function nsenterArgv(h: HostPaths, argv: readonly string[]): string[] {
  return ["nsenter", `--net=/run/netns/${h.netns}`, `--mount=${h.mntNs}`, `--uts=${h.utsNs}`, "--", ...argv];
}

export async function labExec(
  lab: string,
  host: string | number,
  argv: readonly string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<RunResult> {
  if (argv.length === 0) throw new LabError("labExec: empty command");
  const h = resolveHost(lab, host);
  return run(nsenterArgv(h, argv), {
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 120_000,
    allowFail: true,
  });
}
