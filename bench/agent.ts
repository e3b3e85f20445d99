// npm run bench:agent — keel-agent on real btrfs loop images, in one run:
//  1. receive of a ~1 GiB release by the agent vs plain `btrfs receive -f` of the same stream
//     (throughput ratio of medians over BENCH_AGENT_RUNS alternating runs, goal ≥ 0.9×) and the
//     agent's peak RSS while receiving (VmHWM, goal < 64 MiB);
//  2. activate and rollback latency (median of 40, inside one `serve` session, goal < 50 ms;
//     the CLI's wall time including Node start-up is shown too);
//  3. incremental vs full stream bytes for two consecutive releases of a real npm package
//     (typescript 5.8.2 → 5.8.3 fetched with `npm pack`).
// Prints a Markdown section; with --write it replaces the "## Agent" section of docs/benchmarks.md.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FrameDecoder, encodeJsonFrame, type Frame } from "../agent/protocol";

const REPO = resolve(__dirname, "..");
const AGENT = join(REPO, "agent/dist/keel-agent.mjs");
const DATE = "2026-12-05";
/** Receive runs per side (BENCH_AGENT_RUNS, default 5). */
const RUNS = Number(process.env.BENCH_AGENT_RUNS ?? 5);
const root = mkdtempSync(join(tmpdir(), "keel-bench-agent-"));
const mounts: string[] = [];

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 }).toString();
}

function btrfs(name: string, sizeMiB: number): string {
  const img = join(root, `${name}.img`);
  const mnt = join(root, name);
  mkdirSync(mnt);
  sh("truncate", ["-s", `${sizeMiB}M`, img]);
  sh("mkfs.btrfs", ["-q", "-f", img]);
  sh("mount", ["-o", "loop", img, mnt]);
  mounts.push(mnt);
  return mnt;
}

function warm(path: string): void {
  spawnSync("cat", [path], { stdio: ["ignore", "ignore", "ignore"] });
}

function cleanup(): void {
  for (const m of mounts.reverse()) spawnSync("umount", [m]);
  rmSync(root, { recursive: true, force: true });
}

function agentJson(args: string[]): Record<string, unknown> {
  const r = spawnSync("node", [AGENT, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`keel-agent ${args[0]} failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Runs a program and samples its VmHWM (peak RSS) until it exits. */
function timed(
  cmd: string,
  args: string[],
): Promise<{ ms: number; peakKiB: number; code: number | null; out: string }> {
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    let peakKiB = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 20);
    child.on("exit", (code) => {
      clearInterval(timer);
      res({ ms: Number(process.hrtime.bigint() - t0) / 1e6, peakKiB, code, out });
    });
  });
}

function writeRandomTree(dir: string, totalMiB: number): void {
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  mkdirSync(join(dir, "small"), { recursive: true });
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, "small", `f${i}.txt`), `file ${i}\n`.repeat(50));
  for (let i = 0; i < totalMiB / 8; i++) {
    const sub = join(dir, `d${i % 16}`);
    mkdirSync(sub, { recursive: true });
    randomFillSync(buf);
    writeFileSync(join(sub, `blob${i}.bin`), buf);
  }
}

async function receiveBench(): Promise<string[]> {
  const build = btrfs("build", 3 * 1024);
  const host = btrfs("host", 6 * 1024);
  const keys = join(root, "keys");
  agentJson(["keygen", "--out", keys, "--name", "bench"]);
  const trusted = join(root, "trusted");
  mkdirSync(trusted);
  writeFileSync(join(trusted, "bench.pub"), readFileSync(join(keys, "bench.pub")));
  const src = join(root, "src");
  writeRandomTree(src, 1024);
  const out = join(root, "out");
  const b = agentJson([
    "build",
    "--store",
    build,
    "--from",
    src,
    "--app",
    "big",
    "--version",
    "1",
    "--key",
    join(keys, "bench.key"),
    "--out",
    out,
  ]) as {
    full: { manifestPath: string; streamPath: string; bytes: number };
  };
  rmSync(src, { recursive: true, force: true });
  const stream = b.full.streamPath;
  const bytes = b.full.bytes;
  // Both sides in the same run, alternating which goes first, RUNS times; medians are quoted.
  // Same stream file (read from the page cache by both: warmed before each), same host file
  // system, every received subvolume deleted (and the deletion waited for) before the next run.
  const rows: { plain: number; plainSync: number; agent: number; rss: number; steps: Map<string, number> }[] =
    [];
  const load0 = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const plainRun = async (i: number) => {
    warm(stream);
    const dir = join(host, `plain${i}`);
    mkdirSync(dir);
    const p = await timed("btrfs", ["receive", "-f", stream, dir]);
    if (p.code !== 0) throw new Error(p.out);
    // The agent's commit makes the received data durable; a bare receive does not. syncfs of
    // the host file system alone (`sync -f`), so other file systems' dirty data is not counted.
    const t0 = process.hrtime.bigint();
    sh("sync", ["-f", host]);
    const syncMs = Number(process.hrtime.bigint() - t0) / 1e6;
    sh("btrfs", ["subvolume", "delete", "-c", join(dir, "1")]);
    rmSync(dir, { recursive: true });
    sh("btrfs", ["subvolume", "sync", host]); // wait until the space is really free
    return { plain: p.ms, plainSync: p.ms + syncMs };
  };
  const agentRun = async () => {
    warm(stream);
    const a = await timed("env", [
      "KEEL_AGENT_TIMING=1",
      "node",
      AGENT,
      "receive",
      "--store",
      host,
      "--trusted",
      trusted,
      "--manifest",
      b.full.manifestPath,
      "--stream",
      stream,
    ]);
    if (a.code !== 0) throw new Error(a.out);
    const steps = new Map<string, number>();
    for (const m of a.out.matchAll(/^keel-agent timing (\S+) (\d+) ms/gm))
      steps.set(m[1] as string, Number(m[2]));
    agentJson(["remove", "--store", host, "--trusted", trusted, "big", "1"]);
    sh("btrfs", ["subvolume", "sync", host]);
    return { agent: a.ms, rss: a.peakKiB, steps };
  };
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      const p = await plainRun(i);
      rows.push({ ...p, ...(await agentRun()) });
    } else {
      const a = await agentRun();
      rows.push({ ...(await plainRun(i)), ...a });
    }
    const r = rows[rows.length - 1]!;
    process.stderr.write(
      `run ${i + 1}/${RUNS}: plain ${r.plain.toFixed(0)} ms (+syncfs ${r.plainSync.toFixed(0)} ms), agent ${r.agent.toFixed(0)} ms, rss ${(r.rss / 1024).toFixed(1)} MiB\n`,
    );
  }
  const load1 = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const plain = median(rows.map((r) => r.plain));
  const plainSync = median(rows.map((r) => r.plainSync));
  const agent = median(rows.map((r) => r.agent));
  const mibs = (ms: number) => bytes / 1048576 / (ms / 1000);
  const range = (xs: number[]) =>
    `${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)} s`;
  const stepNames = [...(rows[0]?.steps.keys() ?? [])];
  const steps = stepNames
    .map((n) => `${n} ${median(rows.map((r) => r.steps.get(n) ?? 0)).toFixed(0)}`)
    .join(", ");
  const peak = Math.max(...rows.map((r) => r.rss));
  const ratios = rows.map((r) => r.plain / r.agent);
  return [
    `| ~1 GiB full stream (${(bytes / 1048576).toFixed(0)} MiB, 2,000 small + 128 × 8 MiB files), median of ${RUNS} alternating runs (load average ${load0} before, ${load1} after) | plain \`btrfs receive -f\` | ${(plain / 1000).toFixed(2)} s, ${mibs(plain).toFixed(0)} MiB/s (${range(rows.map((r) => r.plain))}) |`,
    `| | plain \`btrfs receive -f\` followed by \`sync -f\` of the host file system | ${(plainSync / 1000).toFixed(2)} s, ${mibs(plainSync).toFixed(0)} MiB/s (${range(rows.map((r) => r.plainSync))}) |`,
    `| | \`keel-agent receive\` (process start to exit: stream — every chunk verified, then piped to btrfs receive —, receive end, check, durable commit, cleanup) | ${(agent / 1000).toFixed(2)} s, ${mibs(agent).toFixed(0)} MiB/s (${range(rows.map((r) => r.agent))}) |`,
    `| | agent steps, medians (ms) | ${steps} |`,
    `| | throughput ratio agent / plain receive, medians (goal ≥ 0.9×) | **${(plain / agent).toFixed(2)}×** (per run ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×) |`,
    `| | throughput ratio agent / plain receive + sync, medians | ${(plainSync / agent).toFixed(2)}× |`,
    `| | agent peak RSS while receiving, VmHWM, highest of ${RUNS} (goal < 64 MiB) | **${(peak / 1024).toFixed(1)} MiB** (median ${(median(rows.map((r) => r.rss)) / 1024).toFixed(1)} MiB) |`,
  ];
}

async function latencyBench(): Promise<string[]> {
  const host = btrfs("lat", 256);
  const keys = join(root, "keys");
  const trusted = join(root, "trusted");
  const src = join(root, "latsrc");
  mkdirSync(src);
  writeFileSync(join(src, "app"), "1\n");
  const out = join(root, "latout");
  const bstore = btrfs("latbuild", 256);
  const b1 = agentJson([
    "build",
    "--store",
    bstore,
    "--from",
    src,
    "--app",
    "lat",
    "--version",
    "1",
    "--key",
    join(keys, "bench.key"),
    "--out",
    out,
  ]) as { full: { manifestPath: string; streamPath: string } };
  writeFileSync(join(src, "app"), "2\n");
  const b2 = agentJson([
    "build",
    "--store",
    bstore,
    "--from",
    src,
    "--app",
    "lat",
    "--version",
    "2",
    "--key",
    join(keys, "bench.key"),
    "--out",
    out,
  ]) as { full: { manifestPath: string; streamPath: string } };
  const S = ["--store", host, "--trusted", trusted];
  for (const b of [b1, b2])
    agentJson(["receive", ...S, "--manifest", b.full.manifestPath, "--stream", b.full.streamPath]);
  agentJson(["activate", ...S, "lat", "1"]);
  agentJson(["activate", ...S, "lat", "2"]);
  // serve session
  const child = spawn("node", [AGENT, "serve", ...S], { stdio: ["pipe", "pipe", "inherit"] });
  const dec = new FrameDecoder();
  const frames: Frame[] = [];
  let wake: (() => void) | null = null;
  child.stdout.on("data", (d: Buffer) => {
    frames.push(...dec.push(d));
    wake?.();
  });
  const next = async () => {
    while (!frames.length) await new Promise<void>((r) => (wake = r));
    return frames.shift() as Frame;
  };
  await next(); // hello
  const act: number[] = [];
  const rb: number[] = [];
  for (let i = 0; i < 40; i++) {
    const isRollback = i % 2 === 0;
    const req = isRollback
      ? { protocolVersion: 1, id: `r${i}`, command: "rollback", args: { app: "lat" } }
      : { protocolVersion: 1, id: `a${i}`, command: "activate", args: { app: "lat", version: "2" } };
    const t0 = process.hrtime.bigint();
    child.stdin.write(encodeJsonFrame(req));
    const f = await next();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (f.kind !== "json" || !(f.value as { ok: boolean }).ok) throw new Error(JSON.stringify(f));
    (isRollback ? rb : act).push(ms);
  }
  child.stdin.end();
  const cli: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = Date.now();
    agentJson(["rollback", ...S, "lat"]);
    cli.push(Date.now() - t0);
  }
  return [
    `| activate (serve request → response, median of 20) | goal < 50 ms | **${median(act).toFixed(1)} ms** |`,
    `| rollback (serve request → response, median of 20) | goal < 50 ms | **${median(rb).toFixed(1)} ms** |`,
    `| rollback via the CLI, wall time incl. Node start-up (median of 6) | | ${median(cli).toFixed(0)} ms |`,
  ];
}

function incrementalBench(): string[] {
  const store = btrfs("ts", 1024);
  const keys = join(root, "keys");
  const out = join(root, "tsout");
  const rows: string[] = [];
  let prev: string | undefined;
  for (const v of ["5.8.2", "5.8.3"]) {
    const dir = join(root, `ts-${v}`);
    mkdirSync(dir);
    const tgz = sh("npm", ["pack", `typescript@${v}`, "--silent", "--pack-destination", dir])
      .trim()
      .split("\n")
      .pop() as string;
    sh("tar", ["-xzf", join(dir, tgz), "-C", dir]);
    const b = agentJson([
      "build",
      "--store",
      store,
      "--from",
      join(dir, "package"),
      "--app",
      "typescript",
      "--version",
      v,
      "--key",
      join(keys, "bench.key"),
      "--out",
      out,
      ...(prev ? ["--parent", prev] : []),
    ]) as {
      full: { bytes: number };
      incremental: { bytes: number } | null;
      tree: { files: number; bytes: number };
    };
    if (b.incremental) {
      const zst = (f: string) => {
        const o = join(root, "z.zst");
        sh("zstd", ["-19", "-q", "-f", "-T2", f, "-o", o]);
        const n = readFileSync(o).length;
        rmSync(o);
        return n;
      };
      const inc = b as unknown as { incremental: { streamPath: string }; full: { streamPath: string } };
      rows.push(
        `| typescript ${prev} → ${v} (npm pack; ${b.tree.files} entries, ${(b.tree.bytes / 1048576).toFixed(1)} MiB) | full stream | ${(b.full.bytes / 1048576).toFixed(2)} MiB |`,
        `| | incremental stream (\`btrfs send -p\`) | ${(b.incremental.bytes / 1024).toFixed(1)} KiB (${((100 * b.incremental.bytes) / b.full.bytes).toFixed(1)} % of full) |`,
        `| | the same, \`zstd -19\`: full / incremental | ${(zst(inc.full.streamPath) / 1024).toFixed(0)} KiB / ${(zst(inc.incremental.streamPath) / 1024).toFixed(0)} KiB |`,
      );
    }
    prev = v;
  }
  return rows;
}

async function main(): Promise<void> {
  if (!existsSync(AGENT)) sh("node", [join(REPO, "agent/build.mjs")]);
  try {
    const lines = [
      "## Agent",
      "",
      `Measured ${DATE} with \`npm run bench:agent\` (keel-agent ${(agentJson(["version"]) as { agentVersion: string }).agentVersion}, Node ${process.version}, btrfs-progs ${sh("btrfs", ["--version"]).trim().split(" ").pop()}), loop-mounted btrfs images on a shared 2-core VM (other jobs were running; figures are indicative). Receive: median of ${RUNS} runs per side, plain and agent alternating in the same run, the same stream file warm in the page cache for both, the same host file system, every received subvolume deleted before the next run.`,
      "",
      "| what | measured | result |",
      "| --- | --- | --- |",
      ...(await receiveBench()),
      ...(await latencyBench()),
      ...incrementalBench(),
      "",
    ];
    const section = lines.join("\n");
    process.stdout.write(section + "\n");
    if (process.argv.includes("--write")) {
      const docs = join(REPO, "docs/benchmarks.md");
      const text = existsSync(docs) ? readFileSync(docs, "utf8") : "# Benchmarks\n\n";
      // Replaces the measured part of the section (heading, "Measured …" line, table) and keeps
      // the hand-written reading of the figures that follows the table.
      const start = text.indexOf("## Agent\n");
      let next: string;
      if (start < 0) {
        next = `${text.trimEnd()}\n\n${section}`;
      } else {
        const after = text.indexOf("\n## ", start + 1);
        const end = after < 0 ? text.length : after + 1;
        const lines = text.slice(start, end).split("\n");
        const first = lines.findIndex((l) => l.startsWith("|"));
        let last = first;
        while (first >= 0 && lines[last + 1]?.startsWith("|")) last++;
        const rest = first < 0 ? "" : lines.slice(last + 1).join("\n");
        next =
          text.slice(0, start) +
          section.trimEnd() +
          "\n" +
          (rest.startsWith("\n") ? rest : `\n${rest}`) +
          text.slice(end);
      }
      writeFileSync(docs, next.endsWith("\n") ? next : next + "\n");
    }
  } finally {
    cleanup();
  }
}

main().catch((e) => {
  cleanup();
  console.error(e);
  process.exit(1);
});
