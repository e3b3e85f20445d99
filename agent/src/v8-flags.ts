// V8 settings the agent applies to itself as it starts (decision 0041), so that every way Node is
// started on a host — the console's `node AGENT serve` (also through sudo and the forced-command
// gate), the resident agent, the CLI by its `#!` line or as `node keel-agent.mjs …` — gets the
// same memory footprint without a flag on the command line: sudoers rules and the forced gate
// match that command line word for word, and Node 20 cannot re-execute itself in place.
import { setFlagsFromString } from "node:v8";

/**
 * Applied once at start. A V8 flag set after the heap exists is taken only where V8 reads it when
 * it acts (these are), not where it sized something at start (`--max-semi-space-size` is not).
 */
export const AGENT_V8_FLAGS = [
  // The young generation stays at its initial 1 MiB semi-spaces (Node 20 lets it double up to
  // 16 MiB each under allocation pressure; a 1 GiB receive grew it to 2 × 2 MiB, pages a
  // collection does not give back): what `--max-semi-space-size=1` does, which works only on the
  // command line.
  "--semi-space-growth-factor=1",
] as const;

let applied = false;

export function applyAgentV8Flags(): void {
  if (applied) return;
  applied = true;
  for (const f of AGENT_V8_FLAGS) setFlagsFromString(f);
}
