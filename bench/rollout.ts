// Rollout benchmark (`npm run bench:rollout`): one lab, one run.
//  - Keel: an update rollout of a real release pair (typescript 5.8.2 → 5.8.3 from `npm pack`,
//    unpacked; the update travels as the incremental btrfs stream) to N hosts, with approval not
//    needed (environment dev), one wave, parallelism N, timed from start to succeeded; every host
//    checked on the host afterwards; then a fleet rollback of the largest N (no content sent).
//  - Ansible (Debian's ansible-playbook, forks = N, pipelining and ControlPersist on, host keys from
//    the lab): copy the 5.8.3 tar.zst, unpack into releases/5.8.3, switch `current` atomically
//    (symlink + rename), to the same N hosts; every host checked afterwards.
//  - Fleet rollbacks of the largest N: cold connections (resident agents on the hosts), again with
//    the connections pooled, and cold with the resident agents killed first.
// Each N uses its own app name (ts<N>), so every update starts from hosts that hold only 5.8.2.
// The console is this process (the rollout worker and the SSH executor run in it): peak RSS reported.
// CPU per phase: the console's (this process), the lab hosts' (every process in the lab's network
// namespaces with the children it waited for: sshd, what it started, the resident agents and their
// btrfs), Ansible's controller (ansible-playbook and its ssh clients) and the whole machine's.
// Sizes: KEEL_BENCH_ROLLOUT_SIZES (default "10,50,100"); KEEL_BENCH_SKIP_ANSIBLE=1 runs Keel only (profiling);
// KEEL_BENCH_PROFILE=file.cpuprofile writes a CPU profile of the console during the first fleet rollback.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labDown, labExec } from "@/infra/lab/api";
import { countQueries, kib, machineCpuMs, mib, pct, rssSampler, sec } from "./console-measure";
import { labPaths } from "@/infra/lab/names";
import { procStat } from "@/infra/proc-stat";
import { startEmbeddedPostgres } from "@/infra/start/postgres";
import { applyMigrations } from "@/prisma/migrate";
import { seedUser } from "@/prisma/seed/fleet";
import { setUpLabFleet, type LabFleet } from "@/server/jobs/rollouts/test-support/lab-fleet";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { buildRelease } from "@/server/services/releases/build-release";

const SIZES = (process.env.KEEL_BENCH_ROLLOUT_SIZES ?? "10,50,100")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const MAX = Math.max(...SIZES);
const FROM = "5.8.2";
const TO = "5.8.3";
const CACHE = join(tmpdir(), "keel-bench-rollout-src");

const queryCount = countQueries();
const rss = rssSampler();

/** typescript@V from the npm registry, unpacked (`package/`), and as a tar.zst of that tree. */
function release(v: string): { dir: string; tarZst: string } {
  const base = join(CACHE, v);
  const dir = join(base, "package");
  const tarZst = join(base, `typescript-${v}.tar.zst`);
  if (!existsSync(tarZst)) {
    mkdirSync(base, { recursive: true });
    const tgz = execFileSync("npm", ["pack", `typescript@${v}`, "--silent", "--pack-destination", base], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .pop()!;
    execFileSync("tar", ["-xzf", join(base, tgz), "-C", base]);
    execFileSync("tar", ["--zstd", "--numeric-owner", "-C", dir, "-cf", tarZst, "."]);
  }
  return { dir, tarZst };
}

/** Bytes the console's side of the lab bridge sent and received (every SSH byte to and from the lab hosts). */
function bridgeBytes(lab: string): { tx: number; rx: number } {
  const dev = labPaths(lab).bridge;
  const read = (what: string) =>
    Number(readFileSync(`/sys/class/net/${dev}/statistics/${what}_bytes`, "utf8"));
  return { tx: read("tx"), rx: read("rx") };
}

/** USER_HZ: /proc/PID/stat counts CPU in clock ticks of 10 ms. */
const TICK_MS = 10;

/** A process's own CPU and that of its children it has waited for (ms), from /proc/PID/stat. */
function procCpu(pid: number | "self"): { own: number; children: number; comm: string } | null {
  const stat = procStat(pid);
  if (!stat) return null;
  const f = stat.fields.map(Number); // utime stime cutime cstime at 11–14
  return { own: (f[11]! + f[12]!) * TICK_MS, children: (f[13]! + f[14]!) * TICK_MS, comm: stat.comm };
}

/**
 * CPU (ms, since they started) of every process in the lab's hosts, i.e. in one of its network
 * namespaces, with the children each has waited for: sshd (its per-connection processes, `serve`
 * started through it, Ansible's python) and the resident agents (their btrfs, setpriv, hooks). A
 * process that ends is counted in its parent's children, so differences over a phase are the lab's
 * CPU in it, whatever else runs on the machine. Kernel threads (btrfs workers, loop devices) are not
 * in it; they are in the machine's CPU.
 */
function labCpu(lab: string): { sshd: number; agent: number; other: number; pids: Map<string, number[]> } {
  const prefix = labPaths(lab).netnsPrefix;
  const nets = new Set<number>();
  for (const n of readdirSync("/run/netns").filter((n) => n.startsWith(prefix)))
    nets.add(statSync(`/run/netns/${n}`).ino);
  const out = { sshd: 0, agent: 0, other: 0, pids: new Map<string, number[]>() };
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    let ino: number;
    try {
      ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${d}/ns/net`))?.[1]);
    } catch {
      continue;
    }
    if (!nets.has(ino)) continue;
    const c = procCpu(Number(d));
    if (!c) continue;
    const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
    const kind = c.comm === "sshd" ? "sshd" : /keel-agent/.test(cmd) ? "agent" : "other";
    out[kind] += c.own + c.children;
    out.pids.set(kind, [...(out.pids.get(kind) ?? []), Number(d)]);
  }
  return out;
}

/** The lab's CPU over a phase, per host. */
function labCpuSince(lab: string, before: ReturnType<typeof labCpu>, hosts: number) {
  const now = labCpu(lab);
  const per = (k: "sshd" | "agent" | "other") => (now[k] - before[k]) / hosts;
  return {
    sshd: per("sshd"),
    agent: per("agent"),
    other: per("other"),
    all: per("sshd") + per("agent") + per("other"),
  };
}

const ms1 = (n: number) => `${n.toFixed(0)} ms`;
const hostCpuText = (h: ReturnType<typeof labCpuSince>) =>
  `lab hosts' CPU ${ms1(h.all)} per host (sshd and what it started ${ms1(h.sshd)}, resident agents and their children ${ms1(h.agent)}, other ${ms1(h.other)})`;

async function runRollout(
  fleet: LabFleet,
  actor: { id: string; roles: "operator"[] },
  spec: TRolloutSpec,
  opts: { cold?: boolean; profile?: string } = {},
) {
  const { Session } = await import("node:inspector/promises");
  const prof = opts.profile ? new Session() : null;
  if (prof) {
    prof.connect();
    await prof.post("Profiler.enable");
    await prof.post("Profiler.start");
  }
  const r = await createRollout({ db: fleet.db }, actor, spec);
  if (r.state !== "approved")
    throw new Error(`rollout ${r.number} is ${r.state}, expected approved without approvals`);
  // Cold: no SSH connection left over from the previous rollout (the pool keeps idle ones 30 s).
  if (opts.cold) await fleet.pool.closeIdle();
  // Start from clean page caches: the write-back of the previous phase (an untimed 2.2 GB install,
  // or Ansible's unpacked trees, on 100 loop-mounted file systems) must not land in this one.
  spawnSync("sync");
  const wire0 = bridgeBytes(fleet.lab);
  const cpu0 = process.cpuUsage();
  const q0 = queryCount();
  const m0 = machineCpuMs();
  const lab0 = labCpu(fleet.lab);
  const t0 = Date.now();
  await startRollout({ db: fleet.db, boss: fleet.worker.boss }, actor, r.id);
  fleet.worker.wake();
  for (;;) {
    // Poll the state alone (reading every host row 10 times a second would load the console's CPU).
    const st = await fleet.db.rollout.findUniqueOrThrow({ where: { id: r.id }, select: { state: true } });
    const x = ["succeeded", "finished_with_failures", "paused", "failed", "cancelled"].includes(st.state)
      ? await fleet.db.rollout.findUniqueOrThrow({ where: { id: r.id }, include: { hosts: true } })
      : { ...st, number: r.number };
    if ("hosts" in x) {
      // finishedAt is set by this process when the last step ended: no polling granularity.
      const ms = x.finishedAt ? x.finishedAt.getTime() - t0 : Date.now() - t0;
      if (x.state !== "succeeded")
        throw new Error(
          `rollout ${x.number} ended ${x.state}: ${x.pauseReason ?? ""} ${JSON.stringify(x.hosts.filter((h) => h.state !== "succeeded").map((h) => [h.hostName, h.state, h.step, h.error]))}`,
        );
      if (prof) {
        const { profile } = await prof.post("Profiler.stop");
        writeFileSync(opts.profile!, JSON.stringify(profile));
        prof.disconnect();
      }
      const wire1 = bridgeBytes(fleet.lab);
      const cpu = process.cpuUsage(cpu0);
      const queriesPerHost = (queryCount() - q0) / x.hosts.length;
      const machineMs = machineCpuMs() - m0;
      const hostCpu = labCpuSince(fleet.lab, lab0, x.hosts.length);
      const steps = x.hosts.map((h) =>
        h.finishedAt && h.startedAt ? h.finishedAt.getTime() - h.startedAt.getTime() : NaN,
      );
      const starts = x.hosts.map((h) => (h.startedAt ? h.startedAt.getTime() - t0 : NaN));
      return {
        ms,
        bytes: x.hosts.reduce((a, h) => a + Number(h.bytesSent), 0),
        wire: { tx: wire1.tx - wire0.tx, rx: wire1.rx - wire0.rx },
        stepP50: pct(steps, 50),
        stepP95: pct(steps, 95),
        lastStart: Math.max(...starts),
        cpuMs: (cpu.user + cpu.system) / 1000,
        queriesPerHost,
        machineMs,
        hostCpu,
        hosts: x.hosts.length,
        plan: r.plan,
      };
    }
    if (Date.now() - t0 > 30 * 60_000) throw new Error(`rollout ${x.number} still ${x.state} after 30 min`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** readlink of `dir/current` on each host, read on the host itself (16 at a time). */
async function check(lab: string, hosts: string[], link: string, want: string) {
  const bad: string[] = [];
  for (let i = 0; i < hosts.length; i += 16)
    await Promise.all(
      hosts.slice(i, i + 16).map(async (h) => {
        const r = await labExec(lab, h, ["readlink", link]);
        if (r.code !== 0 || r.stdout.trim() !== want) bad.push(`${h}: ${r.stdout.trim() || r.stderr.trim()}`);
      }),
    );
  if (bad.length)
    throw new Error(`${link} is not ${want} on ${bad.length} host(s): ${bad.slice(0, 5).join("; ")}`);
}

function ansible(
  fleet: LabFleet,
  work: string,
  n: number,
  tarZst: string,
): { ms: number; controllerMs: number; machineMs: number; hostCpu: ReturnType<typeof labCpuSince> } {
  const hosts = fleet.inv.hosts.slice(0, n);
  const kh = hosts
    .map((h) => {
      const pub = readFileSync(
        `/var/lib/keel-lab/${fleet.lab}/hosts/${h.name}/ssh_host_ed25519_key.pub`,
        "utf8",
      )
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(" ");
      return `${h.port === 22 ? h.address : `[${h.address}]:${h.port}`} ${pub}`;
    })
    .join("\n");
  writeFileSync(join(work, "known_hosts"), kh + "\n");
  writeFileSync(
    join(work, `inv-${n}`),
    "[lab]\n" +
      hosts
        .map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user}`)
        .join("\n") +
      "\n",
  );
  const dest = `/var/lib/keel/ansible/ts${n}`;
  writeFileSync(
    join(work, "deploy.yml"),
    `- hosts: lab
  gather_facts: false
  vars:
    d: "${dest}"
    v: "${TO}"
  tasks:
    - name: release directory
      ansible.builtin.file: { path: "{{ d }}/releases/{{ v }}", state: directory, mode: "0755" }
    - name: copy the tar.zst
      ansible.builtin.copy: { src: "${tarZst}", dest: "{{ d }}/{{ v }}.tar.zst", mode: "0644" }
    - name: unpack into releases/V
      ansible.builtin.command: tar --zstd -xf {{ d }}/{{ v }}.tar.zst -C {{ d }}/releases/{{ v }}
    - name: switch current atomically (new symlink, then rename over the old one)
      ansible.builtin.shell: ln -sfn releases/{{ v }} {{ d }}/.current.new && mv -T {{ d }}/.current.new {{ d }}/current
`,
  );
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: join(work, "ansible.cfg"),
    ANSIBLE_PIPELINING: "True",
    ANSIBLE_FORKS: String(n),
    ANSIBLE_HOST_KEY_CHECKING: "True",
    ANSIBLE_PYTHON_INTERPRETER: "/usr/bin/python3",
    ANSIBLE_PRIVATE_KEY_FILE: fleet.inv.consoleKey.privateKeyPath!,
    ANSIBLE_SSH_ARGS: `-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${join(work, "known_hosts")} -o StrictHostKeyChecking=yes`,
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(work, "cp"),
    ANSIBLE_LOCAL_TEMP: join(work, "tmp"),
    ANSIBLE_RETRY_FILES_ENABLED: "False",
    ANSIBLE_NOCOLOR: "1",
  };
  writeFileSync(join(work, "ansible.cfg"), "[defaults]\n");
  spawnSync("sync"); // as before each Keel phase
  // ansible-playbook and its forks (and their ssh clients) are this process's waited-for children.
  const self0 = procCpu("self")!.children;
  const m0 = machineCpuMs();
  const lab0 = labCpu(fleet.lab);
  const t0 = Date.now();
  const r = spawnSync(
    "ansible-playbook",
    ["-i", join(work, `inv-${n}`), "--forks", String(n), join(work, "deploy.yml")],
    { env, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const ms = Date.now() - t0;
  // ControlPersist's master ssh processes left ansible's tree (they fork into the background): their
  // CPU (the connections' encryption) is the controller's too; they started during the play.
  let masters = 0;
  for (const d of readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, "utf8").includes(join(work, "cp"))) continue;
    } catch {
      continue;
    }
    const c = procCpu(Number(d));
    if (c) masters += c.own + c.children;
  }
  const controllerMs = procCpu("self")!.children - self0 + masters;
  const machineMs = machineCpuMs() - m0;
  const hostCpu = labCpuSince(fleet.lab, lab0, n);
  // ControlPersist keeps a master connection per host for 60 s after the play; they would all close
  // (and their hosts' sshd sessions with them) in the middle of the next timed phase. Close them now.
  spawnSync("pkill", ["-TERM", "-f", join(work, "cp")]);
  if (r.status !== 0)
    throw new Error(`ansible-playbook failed (${r.status}): ${(r.stdout + r.stderr).slice(-3000)}`);
  return { ms, controllerMs, machineMs, hostCpu };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "keel-bench-rollout-"));
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "pg") });
  const lab = "br" + randomBytes(3).toString("hex");
  let fleet: LabFleet | undefined;
  const lines: string[] = [];
  // Interrupted (Ctrl-C, timeout): still take the lab down and unmount.
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      console.error(`${sig}: cleaning up`);
      void (async () => {
        // Before the fleet exists the lab may be half up: take it down by name.
        await (fleet ? fleet.teardown() : labDown(lab)).catch(() => undefined);
        await pg.stop().catch(() => undefined);
        rmSync(work, { recursive: true, force: true });
        process.exit(130);
      })();
    });
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  try {
    console.log(`preparing typescript ${FROM} and ${TO} (npm pack, cached in ${CACHE})`);
    const from = release(FROM);
    const to = release(TO);
    const url = pg.urlFor("postgres");
    await applyMigrations(url);
    const t0 = Date.now();
    // The worker as `npm start` runs it (sweep every 1 s, heartbeat every 5 s), not the tests' short timings.
    fleet = await setUpLabFleet({
      lab,
      count: MAX,
      databaseUrl: url,
      environment: "dev",
      concurrency: MAX,
      sweepMs: 1000,
      heartbeatMs: 5000,
    });
    say(`lab of ${MAX} hosts up, imported and refreshed in ${sec(Date.now() - t0)}`);
    const actor = (await seedUser(fleet.db, "bench@example.test", ["operator"])) as {
      id: string;
      roles: "operator"[];
    };
    const ids = (
      await fleet.db.host.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } })
    ).filter((h) => fleet!.inv.hosts.some((x) => x.name === h.name));
    const spec = (app: string, n: number, over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
      action: "update",
      app,
      version: TO,
      targets: { ids: ids.slice(0, n).map((h) => h.id) },
      waves: ["100%"],
      failureThreshold: 0,
      parallelism: Math.min(n, 200),
      ...over,
    });
    for (const n of SIZES) {
      const app = `ts${n}`;
      const a = await buildRelease(fleet.deps, { app, version: FROM, source: { dir: from.dir } });
      const b = await buildRelease(fleet.deps, { app, version: TO, source: { dir: to.dir } });
      await runRollout(fleet, actor, spec(app, n, { version: FROM })); // hosts hold 5.8.2 (not timed)
      const up = await runRollout(fleet, actor, spec(app, n), { cold: true });
      const stream = (up.plan.hosts[0] as { stream?: string } | undefined)?.stream;
      await check(
        lab,
        ids.slice(0, n).map((h) => h.name),
        `/var/lib/keel/apps/${app}/current`,
        TO,
      );
      say(
        `keel update ${FROM}→${TO}, ${n} hosts: ${sec(up.ms)} (stream ${stream}; full ${mib(a.fullBytes)}, incremental ${mib(b.incrementalBytes ?? 0)}; ${kib(up.bytes / n)} content sent per host, ${mib(up.bytes)} in all; on the wire ${kib(up.wire.tx / n)} out + ${kib(up.wire.rx / n)} back per host; host step p50 ${sec(up.stepP50)} p95 ${sec(up.stepP95)}, last step started at ${sec(up.lastStart)}; console CPU ${sec(up.cpuMs)} of ${sec(up.machineMs)} used by the whole machine, ${up.queriesPerHost.toFixed(1)} database queries per host; ${hostCpuText(up.hostCpu)}); every host checked`,
      );
      if (process.env.KEEL_BENCH_SKIP_ANSIBLE) continue;
      const ans = ansible(fleet, work, n, to.tarZst);
      const ms = ans.ms;
      await check(
        lab,
        ids.slice(0, n).map((h) => h.name),
        `/var/lib/keel/ansible/${app}/current`,
        `releases/${TO}`,
      );
      say(
        `ansible deploy of the ${mib(Number(execFileSync("stat", ["-c", "%s", to.tarZst], { encoding: "utf8" })))} tar.zst, ${n} hosts, forks ${n}: ${sec(ms)}; ansible's controller CPU ${sec(ans.controllerMs)} (${ms1(ans.controllerMs / n)} per host), ${hostCpuText(ans.hostCpu)}, ${sec(ans.machineMs)} used by the whole machine; every host checked → keel/ansible = ${(up.ms / ms).toFixed(3)}, fleet CPU per host (console or controller + hosts) keel/ansible = ${((up.cpuMs / n + up.hostCpu.all) / (ans.controllerMs / n + ans.hostCpu.all)).toFixed(3)}`,
      );
    }
    /** A fleet rollback of the MAX hosts, checked on every host (`current` must become `expect`). */
    const rollback = async (expect: string, opts?: Parameters<typeof runRollout>[3]) => {
      const r = await runRollout(
        fleet!,
        actor,
        spec(`ts${MAX}`, MAX, { action: "rollback", version: undefined }),
        opts,
      );
      await check(
        lab,
        ids.slice(0, MAX).map((h) => h.name),
        `/var/lib/keel/apps/ts${MAX}/current`,
        expect,
      );
      return r;
    };
    const rb = await rollback(FROM, { cold: true, profile: process.env.KEEL_BENCH_PROFILE });
    say(
      `keel fleet rollback, ${MAX} hosts, cold connections: ${sec(rb.ms)}, content bytes sent ${rb.bytes}; on the wire ${kib(rb.wire.tx / MAX)} out + ${kib(rb.wire.rx / MAX)} back per host (SSH handshake, agent requests, facts); host step p50 ${sec(rb.stepP50)} p95 ${sec(rb.stepP95)}; console CPU ${sec(rb.cpuMs)} of ${sec(rb.machineMs)} used by the whole machine, ${rb.queriesPerHost.toFixed(1)} database queries per host; ${hostCpuText(rb.hostCpu)}; every host checked`,
    );
    // Rolling back again makes ${TO} current again ("previous" is ${TO} now); this time the
    // connections of the first rollback are still in the pool (idle for less than 30 s).
    const warm = fleet.pool.size;
    const rb2 = await rollback(TO);
    say(
      `keel fleet rollback again, ${MAX} hosts, ${warm} pooled connections open at the start: ${sec(rb2.ms)}, content bytes sent ${rb2.bytes}; on the wire ${kib(rb2.wire.tx / MAX)} out + ${kib(rb2.wire.rx / MAX)} back per host; host step p50 ${sec(rb2.stepP50)} p95 ${sec(rb2.stepP95)}; console CPU ${sec(rb2.cpuMs)} of ${sec(rb2.machineMs)} used by the whole machine, ${rb2.queriesPerHost.toFixed(1)} database queries per host; ${hostCpuText(rb2.hostCpu)}; every host checked`,
    );
    // The same once more without resident agents (as on first contact, or after they idled out):
    // every host step starts `serve` (Node) on the host again. Only this lab's: the agents in its
    // hosts' network namespaces, by pid (other labs may run on the machine).
    const residents = (labCpu(lab).pids.get("agent") ?? []).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("resident"),
    );
    for (const pid of residents) process.kill(pid, "SIGKILL");
    await new Promise((res) => setTimeout(res, 200));
    const rb3 = await rollback(FROM, { cold: true });
    say(
      `keel fleet rollback, ${MAX} hosts, cold connections and no resident agents (serve started on each host): ${sec(rb3.ms)}, content bytes sent ${rb3.bytes}; host step p50 ${sec(rb3.stepP50)} p95 ${sec(rb3.stepP95)}; console CPU ${sec(rb3.cpuMs)} of ${sec(rb3.machineMs)} used by the whole machine; ${hostCpuText(rb3.hostCpu)}; every host checked`,
    );
    say(`console (this process: worker + SSH executor) peak RSS ${mib(rss.peak())}`);
  } finally {
    rss.stop();
    await fleet?.teardown().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
    await pg.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  console.log("\n" + lines.join("\n"));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
