// `npm start` as a user runs it, as root, with its data inside a directory only root can enter:
// embedded PostgreSQL, migrations, first admin with a printed password, build when needed,
// sign-in over HTTP, the console connected as the app role (not the tables' owner), SIGTERM
// leaves no PostgreSQL behind, a second start reuses the data, and an unreachable DATABASE_URL
// stops start-up with one line.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { freePort } from "./postgres";
import { REPO } from "./next-app";

const DIST = ".next-start-test";
const root = mkdtempSync(join(tmpdir(), "keel-start-"));
chmodSync(root, 0o700); // like /root: the postgres user cannot enter
const dataDir = join(root, "checkout", ".keel");
const children: ChildProcess[] = [];

type Run = { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> };

function launch(env: Record<string, string>, viaShell = false): Run {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    KEEL_NEXT_DIST_DIR: DIST,
    ...env,
  };
  delete base.KEEL_ADMIN_PASSWORD;
  if (!("DATABASE_URL" in env)) delete base.DATABASE_URL;
  const args = ["--import", "tsx", "infra/start/main.ts"];
  const child = viaShell
    ? spawn("sh", ["-c", `"${process.execPath}" ${args.join(" ")}; true`], {
        cwd: REPO,
        env: base,
        detached: true,
      })
    : spawn(process.execPath, args, { cwd: REPO, env: base });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor<T>(what: string, run: Run, get: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (run.child.exitCode !== null)
      throw new Error(`start exited (${run.child.exitCode}) before ${what}:\n${run.out()}\n${run.err()}`);
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}:\n${run.out().slice(-3000)}\n${run.err().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function postgresDir(): string {
  const loc = join(dataDir, "pg-location");
  return existsSync(loc) ? readFileSync(loc, "utf8").trim() : join(dataDir, "pg");
}

function postgresPid(): number {
  return Number(readFileSync(join(postgresDir(), "postmaster.pid"), "utf8").split("\n")[0]);
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return false;
  }
}

/** Who is connected to the console's database, and who owns the audit log (as the superuser). */
async function databaseRoles(): Promise<{ connected: string[]; auditOwner: string }> {
  const pw = readFileSync(join(dataDir, "pg-password"), "utf8").trim();
  const port = readFileSync(join(postgresDir(), "postmaster.pid"), "utf8").split("\n")[3]!.trim();
  const c = new pg.Client({
    connectionString: `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:${port}/keel`,
  });
  await c.connect();
  try {
    const a = await c.query<{ u: string }>(
      `SELECT DISTINCT usename AS u FROM pg_stat_activity WHERE datname = 'keel' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    const o = await c.query<{ o: string }>(
      `SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'audit_events'::regclass`,
    );
    return { connected: a.rows.map((r) => r.u).sort(), auditOwner: o.rows[0]!.o };
  } finally {
    await c.end();
  }
}

async function signIn(url: string, email: string, password: string): Promise<Response> {
  return fetch(`${url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email, password }),
  });
}

afterAll(async () => {
  for (const c of children) {
    for (const target of [c.pid, -(c.pid ?? 0)]) {
      try {
        if (target) process.kill(target, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  const loc = join(dataDir, "pg-location");
  if (existsSync(loc)) rmSync(readFileSync(loc, "utf8").trim(), { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe("npm start", () => {
  let password = "";

  it(
    "starts from nothing, prints the admin password once, serves, and stops postgres on SIGTERM",
    { timeout: 900_000 },
    async () => {
      const port = await freePort();
      const run = launch({ KEEL_DATA_DIR: dataDir, KEEL_PORT: String(port) });
      const url = await waitFor(
        "the ready line",
        run,
        () => /console ready at (\S+)/.exec(run.out())?.[1],
        840_000,
      );
      expect(url).toBe(`http://127.0.0.1:${port}`);
      password = /password: (\S+)/.exec(run.out())![1]!;
      expect((await fetch(`${url}/sign-in`)).status).toBe(200);
      const res = await signIn(url, "admin@keel.local", password);
      expect(res.status).toBe(200);
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const me = await fetch(`${url}/api/trpc/me.whoami`, { headers: { cookie } });
      expect(
        ((await me.json()) as { result: { data: { json: { roles: string[] } } } }).result.data.json.roles,
      ).toEqual(["admin"]);
      // The secret was generated into the data dir, readable by root only.
      expect((await import("node:fs")).statSync(join(dataDir, "secret")).mode & 0o777).toBe(0o600);
      // The web server and the worker are connected as keel_app, which does not own the audit log.
      expect(await databaseRoles()).toEqual({ connected: ["keel_app"], auditOwner: "keel_owner" });
      for (const f of ["pg-owner-password", "pg-app-password"])
        expect((await import("node:fs")).statSync(join(dataDir, f)).mode & 0o777).toBe(0o600);

      const pg = postgresPid();
      expect(alive(pg)).toBe(true);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(alive(pg)).toBe(false);
      // The audit log's signed checkpoints are in the data dir, the last one written on the way out.
      const checkpoints = readFileSync(join(dataDir, "audit-checkpoints.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { rows: number; lastAction: string });
      expect(checkpoints.at(-1)).toMatchObject({ lastAction: "auth.sign_in" });
      expect((await import("node:fs")).statSync(join(dataDir, "audit-checkpoint-key.pem")).mode & 0o777).toBe(
        0o600,
      );
    },
  );

  it(
    "reuses the data on a second start (same admin, no new password) and stops when its shell is killed",
    { timeout: 900_000 },
    async () => {
      const port = await freePort();
      const run = launch({ KEEL_DATA_DIR: dataDir, KEEL_PORT: String(port) }, true);
      const url = await waitFor(
        "the ready line",
        run,
        () => /console ready at (\S+)/.exec(run.out())?.[1],
        840_000,
      );
      expect(run.out()).not.toMatch(/password:/);
      expect((await signIn(url, "admin@keel.local", password)).status).toBe(200);
      const pg = postgresPid();
      // A second start on the same data directory is refused and leaves this console's database alone.
      const second = launch({ KEEL_DATA_DIR: dataDir, KEEL_PORT: String(await freePort()) });
      expect(await second.exited).toBe(1);
      expect(second.err()).toMatch(/another Keel console \(pid \d+\) is running with the data directory/);
      expect(alive(pg)).toBe(true);
      expect((await signIn(url, "admin@keel.local", password)).status).toBe(200);
      // What `kill <npm's pid>` does: the shell dies, the signal is not passed on.
      process.kill(run.child.pid!, "SIGKILL");
      const end = Date.now() + 30_000;
      while (alive(pg) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(alive(pg)).toBe(false);
    },
  );

  it("stops with one clear line when DATABASE_URL cannot be reached", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const run = launch({
      KEEL_DATA_DIR: join(root, "unused"),
      DATABASE_URL: `postgresql://keel:pw@127.0.0.1:${port}/keel`,
    });
    expect(await run.exited).toBe(1);
    const lines = run.err().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(lines[0]).toMatch(/connection refused/);
    expect(lines[0]).toMatch(/unset DATABASE_URL/);
  });
});
