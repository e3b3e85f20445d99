// The resident agent (agent/protocol/resident.ts): one long-lived `keel-agent resident` process per
// store, so that a console step reaches a running agent through its SSH connection instead of
// starting Node on the host (≈ 0.1–0.2 s of CPU each). Each connection on its socket is a `serve`
// session, with the same commands, store lock, journal recovery and errors as `serve` over SSH.
// It is started by `serve --resident SECONDS` when that session ends (never by itself), and exits
// after SECONDS without a connection, when its bundle file changes (an upgrade: the next session
// starts the new one), or when its store is gone.
import { spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./serve";
import { StoreLayout } from "./store/layout";
import { claimName, lockName } from "./store/lock";

const WATCH_MS = 2_000;

/** The bundle file this process runs from (null when not bundled, e.g. in unit tests via tsx). */
function ownFile(): string | null {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return null;
  }
}

/** Which file is at path (and, with contents, which version of it); null when nothing is. */
function identity(path: string, contents = true): string | null {
  try {
    const st = statSync(path);
    return contents ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** One resident agent per store: the store's "resident" name (store/lock.ts). */
const claimStore = async (storeRoot: string): Promise<Server | null> =>
  claimName(lockName(storeRoot, "resident"));

/** Whether a resident agent holds this store now. */
export async function residentRunning(storeRoot: string): Promise<boolean> {
  const claim = await claimStore(storeRoot).catch(() => null);
  if (!claim) return true;
  await new Promise<void>((r) => claim.close(() => r()));
  return false;
}

/**
 * Starts `keel-agent resident` for this store in its own session (it outlives the SSH channel),
 * unless one runs already. Only as root, only from the bundle. Errors are not the caller's concern:
 * without a resident agent the next step simply starts Node again.
 */
export async function startResident(opts: {
  store: string;
  trusted: string;
  idleSeconds: number;
}): Promise<boolean> {
  const file = ownFile();
  if (!file || process.getuid?.() !== 0 || (await residentRunning(opts.store))) return false;
  const child = spawn(
    process.execPath,
    [file, "resident", "--store", opts.store, "--trusted", opts.trusted, "--idle", String(opts.idleSeconds)],
    {
      detached: true,
      stdio: "ignore",
      cwd: "/",
    },
  );
  child.on("error", () => undefined);
  child.unref();
  return true;
}

export async function resident(opts: {
  store: string;
  trusted: string;
  idleSeconds: number;
}): Promise<number> {
  const layout = new StoreLayout(opts.store);
  const storeId = identity(layout.root, false);
  if (!storeId) return 1;
  const claimed = await claimStore(layout.root);
  if (!claimed) return 0; // another one serves this store
  const claim: Server = claimed;
  process.title = `keel-agent resident ${layout.root}`;
  const sock = layout.residentSocket;
  mkdirSync(dirname(sock), { recursive: true, mode: 0o700 });
  chmodSync(dirname(sock), 0o700);
  try {
    if (lstatSync(sock).isSocket()) unlinkSync(sock); // left by a resident agent that died
  } catch {
    /* none */
  }
  const file = ownFile();
  const fileId = file ? identity(file) : null;
  const conns = new Set<Socket>();
  let idle: NodeJS.Timeout | null = null;
  let stopping = false;
  let bound: string | null = null;

  const server = createServer({ allowHalfOpen: false }, (c) => {
    if (stopping || stale()) {
      c.destroy();
      stop();
      return;
    }
    conns.add(c);
    if (idle) clearTimeout(idle);
    c.on("error", () => undefined);
    void serve({ store: opts.store, trusted: opts.trusted, input: c, output: c })
      .catch(() => 2)
      .finally(() => {
        c.end();
        conns.delete(c);
        armIdle();
      });
  });
  const done = new Promise<number>((resolve) => server.on("close", () => resolve(0)));

  function stale(): boolean {
    return identity(layout.root, false) !== storeId || (file !== null && identity(file) !== fileId);
  }
  function armIdle(): void {
    if (idle) clearTimeout(idle);
    if (conns.size === 0) idle = setTimeout(stop, opts.idleSeconds * 1000);
  }
  function stop(): void {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    if (idle) clearTimeout(idle);
    // Only our own socket file: a newer resident agent may have bound the path already.
    try {
      if (bound && identity(sock) === bound) unlinkSync(sock);
    } catch {
      /* gone */
    }
    server.close(); // resolves `done` once the open sessions have ended
    claim.close();
  }
  const watch = setInterval(() => stale() && stop(), WATCH_MS);

  const umask = process.umask(0o177); // the socket file is created 0600
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(sock, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(sock, 0o600);
  bound = identity(sock);
  armIdle();
  return done;
}
