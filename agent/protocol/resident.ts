// The resident agent (docs/agent.md "Resident agent"): after a `serve --resident SECONDS` session
// the agent leaves one `keel-agent resident` process per store, listening on a Unix socket inside
// the store (0600 in a 0700 directory, so only root reaches it). The console reaches that socket
// through the SSH connection it already has (an OpenSSH `direct-streamlocal` channel: no process is
// started on the host for the step) and speaks the same framed protocol as `serve` on it. The
// process exits after SECONDS without a connection, or as soon as its bundle file changes.
import { posix } from "node:path";

/** The agent's store when no --store is given (the console's agents use it). */
export const DEFAULT_STORE = "/var/lib/keel";

/** Where a store's resident agent listens. */
export function residentSocketPath(storeRoot: string): string {
  return posix.join(storeRoot, ".run", "agent.sock");
}

/** The longest a resident agent may stay idle (a day); 0 means no resident agent. */
export const MAX_RESIDENT_SECONDS = 86_400;
