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

export function lockName(storeRoot: string): string {
  const st = statSync(storeRoot);
  return `\0keel-agent-store:${st.dev}:${st.ino}`;
}

/** Takes the store lock or throws BUSY at once (never waits). */
export function acquireLock(storeRoot: string, step: string): Promise<StoreLock> {
  const name = lockName(storeRoot);
  return new Promise((resolve, reject) => {
    const server: Server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") {
        reject(new AgentError("BUSY", step, `another keel-agent operation is running on the store ${storeRoot}; try again when it has finished`));
      } else {
        reject(new AgentError("IO_ERROR", step, `cannot take the store lock for ${storeRoot}: ${e.message}`));
      }
    });
    server.listen({ path: name }, () => {
      server.unref();
      resolve({
        release: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
