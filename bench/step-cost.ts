// The console's cost per host step of a rollout (`npm run bench:step-cost`): console CPU (this
// process: worker, SSH executor, Prisma, pg-boss) and database round trips per host step, for an
// update (small delta) and a fleet rollback over real lab hosts, several rounds; medians.
//
// Baseline in the same run: with KEEL_BENCH_BASELINE=<git ref> (e.g. main) the script checks that
// ref out into a temporary `git worktree`, runs this same file there (as a child process, its own
// lab and database) and here, alternating, and prints the ratios. Each side is one process whose
// CPU is measured only while its rollouts run.
//
// KEEL_BENCH_HOSTS (default 16), KEEL_BENCH_ROUNDS (default 3), KEEL_BENCH_PROFILE=dir writes a CPU
// profile of each timed rollout, KEEL_BENCH_WHO=1 names the code that sent each query (stack per
// query: costly, so its CPU figures are not comparable).
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { summarizeProfile } from "./cpu-profile-summary";

const HOSTS = Number(process.env.KEEL_BENCH_HOSTS ?? 16);
const ROUNDS = Number(process.env.KEEL_BENCH_ROUNDS ?? 3);
const WHO = !!process.env.KEEL_BENCH_WHO;
const PROFILE = process.env.KEEL_BENCH_PROFILE;

type Phase = {
  cpuMs: number;
  /** Of cpuMs, the kernel's (system time: socket writes, which on this lab's veth pairs include delivery). */
  sysMs: number;
  queries: number;
  wallMs: number;
  byKind: Record<string, number>;
};
type SideResult = { label: string; phases: Record<string, Phase[]> };

// Every round trip to PostgreSQL this process makes (Prisma through node-postgres, and pg-boss).
let queries = 0;
let counting = false;
/** The bench's own client (waiting for a rollout to end): not the console, not counted. */
let poller: pg.Client | undefined;
const byKind = new Map<string, number>();
const kindOf = (sql: string): string => {
  const s = sql.replace(/\s+/g, " ").trim();
  const verb = (/^\w+/.exec(s)?.[0] ?? "?").toUpperCase();
  const table =
    /\b(?:FROM|INTO|UPDATE)\s+("?[\w]+"?\.)?"?([\w]+)"?/i.exec(
      verb === "UPDATE" ? s : s.replace(/^\w+ /, ""),
    )?.[2] ?? "";
  const extra = /pg_advisory_xact_lock|hashtext|SAVEPOINT|RELEASE/.exec(s)?.[0] ?? "";
  return `${verb} ${table}${extra ? " " + extra : ""}`.trim();
};
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting && this !== poller) {
    queries++;
    const a = args[0] as string | { text?: string };
    const text = typeof a === "string" ? a : (a?.text ?? "");
    const k = kindOf(text) + (WHO ? `  ${text.replace(/\s+/g, " ").slice(0, 140)}` : "");
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
  }
  return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pgQuery;

async function side(): Promise<SideResult> {
  const { startEmbeddedPostgres } = await import("@/infra/start/postgres");
  const { applyMigrations } = await import("@/prisma/migrate");
  const { seedUser } = await import("@/prisma/seed/fleet");
  const { setUpLabFleet } = await import("@/server/jobs/rollouts/test-support/lab-fleet");
  const { startRollout } = await import("@/server/services/rollouts/control-rollout");
  const { createRollout } = await import("@/server/services/rollouts/create-rollout");
  const work = mkdtempSync(join(tmpdir(), "keel-bench-step-"));
  const db = await startEmbeddedPostgres({ dataDir: join(work, "pg") });
  const lab = "bs" + randomBytes(3).toString("hex");
  type Fleet = Awaited<ReturnType<typeof setUpLabFleet>>;
  let fleet: Fleet | undefined;
  const cleanup = async () => {
    await poller?.end().catch(() => undefined);
    await fleet?.teardown().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
    if (!fleet) await (await import("@/infra/lab/api")).labDown(lab).catch(() => undefined);
    await db.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => void cleanup().then(() => process.exit(130)));
  const phases: Record<string, Phase[]> = {};
  try {
    const url = db.urlFor("postgres");
    await applyMigrations(url);
    // The worker as `npm start` runs it (sweep every 1 s, heartbeat every 5 s).
    fleet = await setUpLabFleet({
      lab,
      count: HOSTS,
      databaseUrl: url,
      environment: "dev",
      concurrency: HOSTS,
      sweepMs: 1000,
      heartbeatMs: 5000,
    });
    const f = fleet;
    poller = new pg.Client({ connectionString: url });
    await poller.connect();
    const actor = (await seedUser(f.db, "bench@example.test", ["operator"])) as {
      id: string;
      roles: "operator"[];
    };
    const ids = (await f.db.host.findMany({ orderBy: { name: "asc" }, select: { id: true } })).map(
      (h) => h.id,
    );
    const run = async (name: string | null, app: string, action: "update" | "rollback", version?: string) => {
      const r = await createRollout({ db: f.db }, actor, {
        action,
        app,
        ...(version ? { version } : {}),
        targets: { ids },
        waves: ["100%"],
        failureThreshold: 0,
        parallelism: HOSTS,
      });
      if (r.state !== "approved") throw new Error(`rollout ${r.number} is ${r.state}`);
      await f.pool.closeIdle(); // cold connections, as a rollout that follows no other
      const { Session } = await import("node:inspector/promises");
      const prof = name && PROFILE ? new Session() : null;
      if (prof) {
        prof.connect();
        await prof.post("Profiler.enable");
        await prof.post("Profiler.start");
      }
      byKind.clear();
      const q0 = queries;
      const c0 = process.cpuUsage();
      const t0 = Date.now();
      counting = true;
      await startRollout({ db: f.db, boss: f.worker.boss }, actor, r.id);
      f.worker.wake();
      let st: { state: string; pause_reason: string | null };
      for (;;) {
        // Waiting is not the console's work: the state alone, every 200 ms, on a plain client of
        // its own that is not counted (≈ 0.2 ms of CPU a poll).
        await new Promise((res) => setTimeout(res, 200));
        st = (await poller!.query("SELECT state, pause_reason FROM rollouts WHERE id = $1", [r.id]))
          .rows[0] as typeof st;
        if (!["approved", "running"].includes(st.state)) break;
      }
      counting = false;
      const wallMs = Date.now() - t0;
      const cpu = process.cpuUsage(c0);
      if (prof) {
        const { profile } = await prof.post("Profiler.stop");
        mkdirSync(PROFILE!, { recursive: true });
        writeFileSync(join(PROFILE!, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
        console.error(`${name}, where the console's time went:\n${summarizeProfile(profile, HOSTS)}`);
        prof.disconnect();
      }
      if (st.state !== "succeeded")
        throw new Error(`rollout ${r.number} ended ${st.state}: ${st.pause_reason}`);
      if (name)
        (phases[name] ??= []).push({
          cpuMs: (cpu.user + cpu.system) / 1000 / HOSTS,
          sysMs: cpu.system / 1000 / HOSTS,
          queries: (queries - q0) / HOSTS,
          wallMs,
          byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, v / HOSTS])),
        });
    };
    for (let i = 0; i < ROUNDS; i++) {
      const app = `sc${i}`;
      await f.build(app, "1.0");
      await f.build(app, "1.1");
      await run(null, app, "update", "1.0"); // the hosts hold 1.0 (not counted)
      await run("update", app, "update", "1.1");
      await run("rollback", app, "rollback");
    }
    return { label: "", phases };
  } finally {
    await cleanup();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function printSide(r: SideResult) {
  for (const [name, ps] of Object.entries(r.phases)) {
    console.log(
      `${r.label} ${name}: console CPU ${median(ps.map((p) => p.cpuMs)).toFixed(1)} ms/step (${ps.map((p) => p.cpuMs.toFixed(1)).join(", ")}; system ${median(ps.map((p) => p.sysMs ?? NaN)).toFixed(1)}), ` +
        `${median(ps.map((p) => p.queries)).toFixed(1)} queries/step (${ps.map((p) => p.queries.toFixed(1)).join(", ")}), wall ${ps.map((p) => (p.wallMs / 1000).toFixed(2)).join(", ")} s`,
    );
    const kinds = new Map<string, number[]>();
    for (const p of ps)
      for (const [k, v] of Object.entries(p.byKind)) (kinds.get(k) ?? kinds.set(k, []).get(k)!).push(v);
    for (const [k, vs] of [...kinds].sort((a, b) => median(b[1]) - median(a[1])))
      console.log(`    ${median(vs).toFixed(2).padStart(6)}  ${k}`);
  }
}

/** Runs this file in `dir` (a checkout) as a child; its result is the last line of its output. */
function child(dir: string, label: string): Promise<SideResult> {
  return new Promise((res, rej) => {
    const p = spawn(join(dir, "node_modules/.bin/tsx"), [join(dir, "bench/step-cost.ts")], {
      cwd: dir,
      env: { ...process.env, KEEL_BENCH_BASELINE: "", KEEL_BENCH_SIDE: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("exit", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("{"))
        return rej(new Error(`${label} side exited ${code}: ${out.slice(-2000)}`));
      res({ ...(JSON.parse(last) as SideResult), label });
    });
  });
}

async function main() {
  if (process.env.KEEL_BENCH_SIDE) {
    console.log(JSON.stringify(await side()));
    return;
  }
  const ref = process.env.KEEL_BENCH_BASELINE;
  if (!ref) {
    printSide({ ...(await side()), label: "this code" });
    return;
  }
  const here = resolve(import.meta.dirname, "..");
  const base = mkdtempSync(join(tmpdir(), "keel-bench-baseline-"));
  execFileSync("git", ["-C", here, "worktree", "add", "--detach", base, ref], { stdio: "ignore" });
  try {
    symlinkSync(join(here, "node_modules"), join(base, "node_modules"));
    // The agent is the same on both sides (this work is the console's): its bundle is copied over.
    mkdirSync(join(base, "agent/dist"), { recursive: true });
    copyFileSync(join(here, "agent/dist/keel-agent.mjs"), join(base, "agent/dist/keel-agent.mjs"));
    if (!existsSync(join(base, "bench/cpu-profile-summary.ts")))
      copyFileSync(join(here, "bench/cpu-profile-summary.ts"), join(base, "bench/cpu-profile-summary.ts"));
    if (!existsSync(join(base, "bench/step-cost.ts")))
      copyFileSync(join(here, "bench/step-cost.ts"), join(base, "bench/step-cost.ts"));
    const load0 = execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).trim();
    const sides: SideResult[] = [];
    // Alternate, so that a change in the machine's load falls on both.
    sides.push(await child(base, `baseline (${ref})`));
    sides.push(await child(here, "this code"));
    const load1 = execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).trim();
    console.log(
      `\n${new Date().toISOString()} ${HOSTS} lab hosts, ${ROUNDS} rounds; load ${load0} → ${load1}`,
    );
    for (const s of sides) printSide(s);
    const [b, n] = sides as [SideResult, SideResult];
    for (const name of Object.keys(n.phases)) {
      const cb = median(b.phases[name]!.map((p) => p.cpuMs));
      const cn = median(n.phases[name]!.map((p) => p.cpuMs));
      const qb = median(b.phases[name]!.map((p) => p.queries));
      const qn = median(n.phases[name]!.map((p) => p.queries));
      console.log(
        `${name}: CPU ${cb.toFixed(1)} → ${cn.toFixed(1)} ms/step (×${(cn / cb).toFixed(2)}), queries ${qb.toFixed(1)} → ${qn.toFixed(1)} per step (×${(qn / qb).toFixed(2)})`,
      );
    }
  } finally {
    execFileSync("git", ["-C", here, "worktree", "remove", "--force", base]);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
