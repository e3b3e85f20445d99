// Test-only fault switches. KEEL_AGENT_FAULT=<step> makes the agent SIGKILL itself when it reaches
// that step (crash tests); KEEL_AGENT_PAUSE=<step> makes it wait at that step until the marker file
// `<dir>/paused-<step>` it creates is deleted (race tests, e.g. changing the stream's source while it is received).
// Unset in production; they change nothing else.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The steps a fault can be injected at; keep in sync with docs/agent.md. */
export const FAULT_STEPS = [
  "receive.started",
  "receive.mid-receive",
  "receive.verified",
  "receive.received",
  "receive.checked",
  "receive.meta-written",
  "receive.committed",
  "activate.symlink-written",
  "activate.renamed",
  "activate.fsynced",
  "activate.previous-renamed",
  "remove.deleted",
  "gc.removed-one",
  "recover.started",
] as const;
export type FaultStep = (typeof FAULT_STEPS)[number];

export function faultPoint(step: FaultStep): void {
  const want = process.env.KEEL_AGENT_FAULT;
  if (want && want === step) process.kill(process.pid, "SIGKILL");
}

export async function pausePoint(step: FaultStep, dir: string): Promise<void> {
  if (process.env.KEEL_AGENT_PAUSE !== step) return;
  const marker = join(dir, `paused-${step}`);
  writeFileSync(marker, String(process.pid));
  while (existsSync(marker)) await new Promise((r) => setTimeout(r, 10));
}
