// Builds the Next.js console when there is no build yet, and serves it in this process behind
// a small HTTP server that records the client's address (x-keel-client-ip, used by rate limits
// and the audit log) and the requested path (x-keel-path, for sign-in redirects), and bounds
// every request body (./body-guard.ts).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { guardBody } from "./body-guard";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** What the console is built from: a change to any of these makes a build stale. */
const BUILD_INPUTS = [
  "app",
  "server",
  "agent/protocol",
  "prisma/schema",
  "next.config.ts",
  "postcss.config.mjs",
  "package-lock.json",
  "tsconfig.json",
];

/** Files the console's build never includes: tests and what only tests import. */
const NOT_BUILT = /\.(test|int\.test|spec)\.tsx?$|^test-(support|fixtures)(\.tsx?)?$/;

/** The newest modification time under `path`, ignoring tests, node_modules and dot files. */
export function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path))
    if (name !== "node_modules" && !name.startsWith(".") && !NOT_BUILT.test(name))
      newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** "missing", "stale" (a source is newer than the build) or "fresh". */
export function buildState(distDir: string): "missing" | "stale" | "fresh" {
  const id = join(REPO, distDir, "BUILD_ID");
  if (!existsSync(id)) return "missing";
  const built = statSync(id).mtimeMs;
  return BUILD_INPUTS.some((p) => newestMtime(join(REPO, p)) > built) ? "stale" : "fresh";
}

/** Runs `next build`; resolves when it succeeds. `signal` aborts it (Ctrl-C during the build). */
/**
 * `next build` with its output in `logFile`: the terminal gets its progress lines and a count of
 * warnings, not the bundler's warnings themselves (they buried the one-time admin password), and
 * the last lines of the log when the build fails.
 */
export function buildNext(distDir: string, signal: AbortSignal, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: "w", mode: 0o600 });
    const child = spawn(process.execPath, [join(REPO, "node_modules/next/dist/bin/next"), "build"], {
      cwd: REPO,
      env: {
        ...process.env,
        KEEL_NEXT_DIST_DIR: distDir,
        NEXT_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let warnings = 0;
    const tail: string[] = [];
    const lines = (chunk: Buffer) => {
      out.write(chunk);
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (/warn/i.test(line)) warnings++;
        else if (/^\s*(✓|▲|Creating an optimized|Compiled)/.test(line)) console.log(`  next: ${line.trim()}`);
      }
    };
    child.stdout.on("data", lines);
    child.stderr.on("data", lines);
    const abort = () => child.kill("SIGTERM");
    signal.addEventListener("abort", abort, { once: true });
    child.once("error", reject);
    child.once("close", (code, sig) => {
      signal.removeEventListener("abort", abort);
      out.end();
      if (code === 0) {
        console.log(
          `  next: build done${warnings ? `; ${warnings} warning lines` : ""} (full output: ${logFile})`,
        );
        return resolve();
      }
      if (!signal.aborted) console.error(tail.join("\n"));
      reject(
        new Error(
          signal.aborted
            ? "build interrupted"
            : `next build failed (${sig ?? `exit ${code}`}); its last lines are above, the whole output in ${logFile}`,
        ),
      );
    });
  });
}

export type Serving = { server: Server; close(): Promise<void> };

export async function serveNext(opts: { host: string; port: number; dev: boolean }): Promise<Serving> {
  const { default: next } = await import("next");
  const app = next({ dev: opts.dev, dir: REPO, hostname: opts.host, port: opts.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  // No cap on a whole request's duration (Node's default drops any request after 300 s, which cuts
  // a large release upload over a slow link); a socket on which nothing moved for 10 minutes (a
  // stalled upload; longer than a release build the client waits for) is closed instead, and the
  // headers must still arrive within Node's headersTimeout (60 s).
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    req.headers["x-keel-client-ip"] = req.socket.remoteAddress ?? "unknown";
    req.headers["x-keel-path"] = req.url ?? "/";
    if (guardBody(req, res)) return;
    handle(req, res).catch((e: unknown) => {
      console.error("request failed:", e);
      if (!res.headersSent) res.writeHead(500).end("internal error");
    });
  });
  server.setTimeout(600_000, (socket) => socket.destroy());
  // An idle keep-alive socket stays open 65 s (Node's default is 5 s): a client (or a proxy, whose
  // idle timeout is usually 60 s) that reuses a socket the server has just closed gets a reset
  // instead of an answer; seen as ECONNRESET on a busy machine.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await app.close();
    },
  };
}
