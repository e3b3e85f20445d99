// One operation per store at a time. The lock is a listening socket in Linux's abstract namespace,
// named after the store directory's device and inode: binding is exclusive, and the kernel releases
// it the instant the agent dies (even by SIGKILL), so no stale lock files exist to break.
// (Abstract sockets are per network namespace: agents sharing one store must share one.)
import { createServer, type Server } from "node:net";
import { statSync } from "node:fs";
import { AgentError } from "../errors";

export interface StoreLock {
  release(): Promise<void>;
}

/** An exclusive name in the abstract socket namespace for this store; `purpose` tells the names apart. */
export function lockName(storeRoot: string, purpose = "store"): string {
  const st = statSync(storeRoot);
  return `\0keel-agent-${purpose}:${st.dev}:${st.ino}`;
}

/**
 * Listens on an abstract-namespace name: the server while this process holds it (the kernel frees
 * it when the process dies), null when another process holds it.
 */
export function claimName(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? resolve(null) : reject(e)));
    server.listen({ path: name }, () => resolve(server));
  });
}

/** Takes the store lock or throws BUSY at once (never waits). */
export async function acquireLock(storeRoot: string, step: string): Promise<StoreLock> {
  const server = await claimName(lockName(storeRoot)).catch((e: Error) => {
    throw new AgentError("IO_ERROR", step, `cannot take the store lock for ${storeRoot}: ${e.message}`);
  });
  if (!server)
    throw new AgentError(
      "BUSY",
      step,
      `another keel-agent operation is running on the store ${storeRoot}; try again when it has finished`,
    );
  server.unref();
  return { release: () => new Promise<void>((r) => server.close(() => r())) };
}
