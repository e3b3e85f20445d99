// `keel-agent health` on a real btrfs store: the check comes from the installed version's signed
// manifest (the caller cannot send one), runs without a shell in the version's tree with a clean
// environment, is killed with its process group at its timeout, and its output is bounded. An exec
// check runs as the unprivileged user keel-check (no new privileges, no capabilities, no groups)
// unless its manifest says runAs "root". The hostile checks go through every way in: the CLI,
// `serve` (the console's path) and the resident agent.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameDecoder, PROTOCOL_VERSION, encodeJsonFrame, residentSocketPath } from "../protocol";
import { CHECK_USER, ensureCheckUser } from "../src/check-user";
import {
  agent,
  AGENT,
  buildRelease,
  receiveArgs,
  storeArgs,
  testBench,
  writeTree,
  type Loose,
  type Scratch,
} from "./helpers";

let s: Scratch;
let host: string;
let build: string;
let trusted: string;
let key: string;
let marker: string;
let resident: ChildProcess | undefined;
const tag = randomBytes(4).toString("hex");
/** Digits only: the timeout check sleeps for 3600.<num> seconds, which names its processes. */
const num = String(randomBytes(4).readUInt32BE());
/** Where a check running as root could write and an unprivileged one cannot. */
const ROOT_FILE = `/root/keel-health-test-${tag}`;
const S = () => storeArgs(host, trusted);

function release(version: string, healthCheck?: object) {
  const src = s.dir(`src-${version}`);
  writeTree(src, { "bin/app": `#!/bin/sh\necho ${version}\n` });
  const extra = healthCheck ? ["--health-check", JSON.stringify(healthCheck)] : [];
  const b = buildRelease(build, src, "web", version, key, s.dir(`out-${version}`), undefined, extra);
  const r = agent(receiveArgs(S(), b));
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/**
 * What a compromised builder would put in its check: each attempt prints "got: …" when it worked
 * and "denied: …" when it did not, and its identity (uid, gid, groups, no_new_privs, capabilities).
 */
const HOSTILE = [
  "/bin/sh",
  "-c",
  [
    `try() { what=$1; shift; if "$@" >/dev/null 2>&1; then echo "got: $what" >&2; else echo "denied: $what" >&2; fi; }`,
    `try root-file touch ${ROOT_FILE}`,
    `try store-write touch ../pwned-${tag}`,
    `try tree-write touch ./pwned-${tag}`,
    `try sudo sudo -n true`,
    `try shadow cat /etc/shadow`,
    `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)" >&2`,
    `grep -E '^(NoNewPrivs|CapEff|CapBnd):' /proc/self/status >&2`,
  ].join("\n"),
];

type Via = "cli" | "serve" | "resident";

/** One framed session: the requests' answers in order. */
function session(
  write: (b: Buffer) => void,
  onData: (f: (b: Buffer) => void) => void,
  requests: object[],
  done: () => void,
): Promise<Loose[]> {
  return new Promise((resolve) => {
    const d = new FrameDecoder();
    const answers: Loose[] = [];
    onData((b) => {
      for (const f of d.push(b))
        if (f.kind === "json" && (f.value as Loose).ok !== undefined) answers.push(f.value as Loose);
      if (answers.length === requests.length) {
        done();
        resolve(answers);
      }
    });
    for (const r of requests) write(encodeJsonFrame(r));
  });
}

async function health(via: Via, version: string): Promise<Loose> {
  if (via === "cli") {
    const r = agent(["health", ...S(), "web", version], {
      env: { SECRET: "from-the-caller", HOME: "/root" },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.json;
  }
  const req = {
    protocolVersion: PROTOCOL_VERSION,
    id: "h1",
    command: "health",
    args: { app: "web", version },
  };
  let answers: Loose[];
  if (via === "serve") {
    const child = spawn("node", [AGENT, "serve", ...S()], {
      env: { ...process.env, SECRET: "from-the-caller" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    answers = await session(
      (b) => child.stdin.write(b),
      (f) => child.stdout.on("data", f),
      [req],
      () => child.stdin.end(),
    );
  } else {
    const c = connect(residentSocketPath(host));
    answers = await session(
      (b) => c.write(b),
      (f) => c.on("data", f),
      [req],
      () => c.end(),
    );
  }
  expect(answers[0]!.ok, JSON.stringify(answers[0])).toBe(true);
  return answers[0]!.result as Loose;
}

/** Processes of the check user whose command line holds `token` (what a timeout must not leave). */
function leftovers(token: string): number[] {
  const uid = Number(spawnSync("id", ["-u", CHECK_USER]).stdout.toString().trim());
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const st = readFileSync(`/proc/${p}/status`, "utf8");
        return (
          new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(st) &&
          readFileSync(`/proc/${p}/cmdline`, "utf8").includes(token)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  ({ s, key, trusted } = testBench("health"));
  // The marker of 2.0 lives here; the check user must be able to look at it.
  chmodSync(s.root, 0o755);
  host = s.btrfs("host");
  build = s.btrfs("build");
  marker = join(s.root, "healthy");
  release("1.0"); // no check
  release("2.0", { type: "exec", argv: ["/usr/bin/test", "-f", marker], timeoutMs: 10_000 });
  // Prints its whole environment and where it runs.
  release("3.0", {
    type: "exec",
    argv: ["/bin/sh", "-c", 'env >&2; echo "cwd=$(pwd -P)" >&2'],
    timeoutMs: 10_000,
  });
  release("4.0", {
    type: "exec",
    argv: ["/bin/sh", "-c", `sleep 3600.${num} & setsid sleep 3602.${num} & exec sleep 3601.${num}`],
    timeoutMs: 300,
  });
  release("5.0", { type: "http", url: "http://127.0.0.1:9/health", expectStatus: 200, timeoutMs: 2_000 });
  release("6.0", { type: "exec", argv: HOSTILE, timeoutMs: 20_000 });
  release("7.0", { type: "exec", argv: HOSTILE, timeoutMs: 20_000, runAs: "root" });
  // 8 MiB on stderr and 64 MiB on stdout.
  release("8.0", {
    type: "exec",
    argv: ["/bin/sh", "-c", "head -c 8388608 /dev/zero | tr '\\0' x >&2; head -c 67108864 /dev/zero"],
    timeoutMs: 60_000,
  });
  release("9.0", {
    type: "exec",
    argv: ["/bin/sh", "-c", `setsid sleep 3600.${num}1 & sleep 0.1; exit 0`],
    timeoutMs: 10_000,
  });
  resident = spawn("node", [AGENT, "resident", ...S(), "--idle", "600"], {
    env: { ...process.env, SECRET: "from-the-caller" },
    stdio: "ignore",
  });
  for (let i = 0; i < 200 && !existsSync(residentSocketPath(host)); i++)
    await new Promise((r) => setTimeout(r, 50));
}, 120_000);

afterAll(() => {
  if (resident?.pid) {
    try {
      process.kill(resident.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  rmSync(ROOT_FILE, { force: true });
  s?.cleanup();
});

describe("keel-agent health", () => {
  it("says nothing ran for a version whose manifest declares no check", () => {
    const r = agent(["health", ...S(), "web", "1.0"]);
    expect(r.json).toMatchObject({ app: "web", version: "1.0", ran: false, ok: true });
  });

  it("runs the signed argv: fails while the marker is missing, passes once it exists", () => {
    rmSync(marker, { force: true });
    expect(agent(["health", ...S(), "web", "2.0"]).json).toMatchObject({
      ran: true,
      ok: false,
      outcome: "exit 1",
      user: CHECK_USER,
    });
    writeFileSync(marker, "");
    expect(agent(["health", ...S(), "web", "2.0"]).json).toMatchObject({
      ran: true,
      ok: true,
      outcome: "exit 0",
      user: CHECK_USER,
    });
  });

  it.each(["cli", "serve", "resident"] as const)(
    "via %s: runs in the version's tree with only PATH and KEEL_* set, even when the store is closed to others",
    async (via) => {
      chmodSync(host, 0o700); // the check cannot walk to its tree by path: the agent opens it as root
      try {
        const r = await health(via, "3.0");
        expect(r, JSON.stringify(r)).toMatchObject({
          ran: true,
          ok: true,
          outcome: "exit 0",
          user: CHECK_USER,
        });
        const lines = (r.output as string).split("\n");
        const env = Object.fromEntries(
          lines
            .filter((l) => !l.startsWith("cwd="))
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        const dir = join(host, "apps", "web", "3.0");
        // PWD is the shell's own (sh exports it); nothing of the caller's (SECRET, HOME) gets through.
        expect(env).toEqual({
          PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          KEEL_APP: "web",
          KEEL_VERSION: "3.0",
          KEEL_APP_DIR: dir,
          PWD: dir,
        });
        expect(lines).toContain(`cwd=${dir}`);
      } finally {
        chmodSync(host, 0o755);
      }
    },
  );

  it.each(["cli", "serve", "resident"] as const)(
    "via %s: a hostile check gets no root, no store, no sudo, no shadow",
    async (via) => {
      const uid = Number(spawnSync("id", ["-u", CHECK_USER]).stdout.toString().trim());
      const gid = Number(spawnSync("id", ["-g", CHECK_USER]).stdout.toString().trim());
      expect(uid).toBeGreaterThan(0);
      const r = await health(via, "6.0");
      expect(r, JSON.stringify(r)).toMatchObject({ ran: true, ok: true, user: CHECK_USER });
      const out = r.output as string;
      for (const what of ["root-file", "store-write", "tree-write", "sudo", "shadow"])
        expect(out).toContain(`denied: ${what}`);
      expect(out).not.toContain("got:");
      expect(out).toContain(`uid=${uid} gid=${gid} groups=${gid}\n`);
      expect(out).toMatch(/NoNewPrivs:\s+1/);
      expect(out).toMatch(/CapEff:\s+0+\n/);
      expect(out).toMatch(/CapBnd:\s+0+(\n|$)/);
      // And on disk, as root sees it.
      expect(existsSync(ROOT_FILE)).toBe(false);
      expect(existsSync(join(host, "apps", "web", `pwned-${tag}`))).toBe(false);
    },
  );

  it.each(["cli", "serve", "resident"] as const)(
    "via %s: a check whose signed manifest says runAs root runs as root, and says so",
    async (via) => {
      rmSync(ROOT_FILE, { force: true });
      const r = await health(via, "7.0");
      expect(r, JSON.stringify(r)).toMatchObject({ ran: true, ok: true, user: "root" });
      expect(r.output).toContain("uid=0 gid=0");
      expect(r.output).toContain("got: root-file");
      expect(r.output).toContain("got: shadow");
      expect(existsSync(ROOT_FILE)).toBe(true);
      rmSync(join(host, "apps", "web", `pwned-${tag}`), { force: true }); // root could write into the store
    },
  );

  it("kills a check that outlives its timeout, with everything it started", async () => {
    const r = agent(["health", ...S(), "web", "4.0"]);
    expect(r.json).toMatchObject({
      ran: true,
      ok: false,
      outcome: "killed after the 300 ms timeout",
      user: CHECK_USER,
    });
    // The background sleeps are gone too: the one in the check's process group, and the one that
    // left it (setsid) — the check's PID namespace ended with it.
    await expect.poll(() => leftovers(num), { timeout: 5_000 }).toEqual([]);
  });

  it("leaves nothing running when a check ends, even what it started in a session of its own", async () => {
    const r = agent(["health", ...S(), "web", "9.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: true, outcome: "exit 0", user: CHECK_USER });
    await expect.poll(() => leftovers(`${num}1`), { timeout: 5_000 }).toEqual([]);
  });

  it("keeps at most 2 KiB of what a check prints, however much it prints", () => {
    const r = agent(["health", ...S(), "web", "8.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: true, outcome: "exit 0" });
    expect(r.json.output).toMatch(/^x+$/);
    expect(r.json.output.length).toBe(2048);
  });

  it("reports an HTTP check whose service does not answer, with the reason", () => {
    const r = agent(["health", ...S(), "web", "5.0"]);
    expect(r.json).toMatchObject({ ran: true, ok: false });
    expect(r.json.outcome).toMatch(/fetch failed|ECONNREFUSED|no answer/);
  });

  it("defaults to the current version, refuses one not installed, and takes no check from the caller", () => {
    expect(agent(["activate", ...S(), "web", "2.0"]).code).toBe(0);
    expect(agent(["health", ...S(), "web"]).json).toMatchObject({ version: "2.0", ran: true, ok: true });
    const missing = agent(["health", ...S(), "web", "9.9"]);
    expect(missing.code).toBe(1);
    expect(missing.json.error).toMatchObject({ code: "NOT_FOUND", step: "health" });
    expect(missing.json.error.message).toContain("web 9.9 is not installed");
    // A check offered on the command line is not the signed one and is not run (/bin/false would fail).
    const smuggled = agent([
      "health",
      ...S(),
      "web",
      "2.0",
      "--health-check",
      '{"type":"exec","argv":["/bin/false"],"timeoutMs":1000}',
    ]);
    expect(smuggled.json).toMatchObject({ version: "2.0", ran: true, ok: true, outcome: "exit 0" });
  });
});

describe("the check user", () => {
  // A user of its own (not keel-check, which other agents on this machine may be using).
  const name = `keel-ck-${tag}`;
  afterAll(() => void spawnSync("userdel", [name]));

  it("is created when missing — a system account without login shell or password, once even when agents race", async () => {
    expect(spawnSync("id", [name]).status).not.toBe(0);
    const made = await Promise.all([ensureCheckUser(name), ensureCheckUser(name), ensureCheckUser(name)]);
    expect(new Set(made.map((u) => u.uid)).size).toBe(1);
    const entry = spawnSync("getent", ["passwd", name]).stdout.toString().trim().split(":");
    expect(Number(entry[2])).toBe(made[0]!.uid);
    expect(made[0]!.uid).toBeGreaterThan(0);
    expect(made[0]!.uid).toBeLessThan(1000); // a system uid
    expect(entry[6]).toMatch(/nologin$/);
    expect(existsSync(entry[5]!)).toBe(false); // no home directory
    const shadow = readFileSync("/etc/shadow", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`))!;
    expect(shadow.split(":")[1]).toMatch(/^[!*]/); // no password
    expect((await ensureCheckUser(name)).uid).toBe(made[0]!.uid);
  });

  it("refuses a user of that name that is root", async () => {
    await expect(ensureCheckUser("root")).rejects.toThrow(/must not be root/);
  });
});
