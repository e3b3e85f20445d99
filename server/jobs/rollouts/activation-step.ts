// The activation hook inside a host step (decision 0022): after `current` moved, the agent runs the
// onActivate that the now-current version's signed manifest declares (nothing when it declares
// none); a failure is the step's failure, reported as HOOK_FAILED with host, step, exit code and
// the tail of its stderr. What ran goes into the step's command list (the audit log), with its time.
import type { AgentSession } from "@/server/ssh";

/** Runs the hook of `version` (default: current) and returns null, or the HOOK_FAILED message. */
export async function runActivationHook(
  session: AgentSession,
  host: string,
  app: string,
  version?: string,
  note?: (line: string) => void,
): Promise<string | null> {
  const r = await session.request("hook", version ? { app, version } : { app }).catch((e: Error) => ({
    ok: false,
    ran: true,
    version: version ?? "current",
    outcome: e.message,
    exitCode: null,
    stderrTail: "",
    durationMs: 0,
    user: undefined,
  }));
  if (r.ran)
    note?.(`onActivate of ${app} ${r.version} as ${r.user ?? "?"}: ${r.outcome} in ${r.durationMs} ms`);
  if (r.ok) return null;
  const tail = r.stderrTail ? `; stderr: ${r.stderrTail.slice(-500)}` : "";
  return `HOOK_FAILED on ${host} (step onActivate of ${app} ${r.version}): ${r.outcome}${r.exitCode !== null ? ` (exit code ${r.exitCode})` : ""}${tail}`;
}
