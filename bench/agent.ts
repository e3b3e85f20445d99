// npm run bench:agent — keel-agent on real btrfs loop images, in one run:
//  1. receive of a ~1 GiB release, every side on the same stream file (warm in the page cache), the
//     order rotating over BENCH_AGENT_RUNS rounds, medians quoted:
//       - plain `btrfs receive -f` (no verification at all);
//       - the verified pipeline a careful admin runs: `tee >(sha256sum) < stream | btrfs receive`
//         (hash and receive at once; the digest is known only after the bytes were received) and
//         `sha256sum` then `btrfs receive -f` (the digest first, then the receive);
//       - keel-agent receive of the baseline ref (default main, bundled from `git archive`) and of
//         this checkout: every chunk verified before it reaches btrfs receive, the tree checked,
//         the version committed.
//     Wall (goal: the agent not slower than the verified pipeline), CPU of the process tree per GiB
//     (goal ≤ 1.1× receive + SHA-256) and the agent's peak RSS (goal < 64 MiB).
//  2. activate and rollback latency (median of 40, inside one `serve` session, goal < 50 ms;
//     the CLI's wall time including Node start-up is shown too);
//  3. incremental vs full stream bytes for two consecutive releases of a real npm package
//     (typescript 5.8.2 → 5.8.3 fetched with `npm pack`).
// Env: BENCH_AGENT_RUNS (default 5), BENCH_BASE_REF (default main), KEEL_BENCH_DATE.
// Prints a Markdown section; with --write it replaces the "## Agent" section of docs/benchmarks.md.
import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FrameDecoder, encodeJsonFrame, type Frame } from "@/agent/protocol";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";
import { agentSteps, baselineAgent, loadavg, median, sh, timed, type Measured } from "./measure";

const REPO = resolve(__dirname, "..");
const AGENT = join(REPO, "agent/dist/keel-agent.mjs");
const DATE = process.env.KEEL_BENCH_DATE ?? "2026-12-06";
/** Receive runs per side (BENCH_AGENT_RUNS, default 5). */
const RUNS = Number(process.env.BENCH_AGENT_RUNS ?? 5);
const BASE_REF = process.env.BENCH_BASE_REF ?? "main";
const root = mkdtempSync(join(tmpdir(), "keel-bench-agent-"));
const mounts: string[] = [];

function btrfs(name: string, sizeMiB: number): string {
  const mnt = mountBtrfs(root, name, `${sizeMiB}M`, { noatime: true });
  mounts.push(mnt);
  return mnt;
}

function warm(path: string): void {
  spawnSync("cat", [path], { stdio: ["ignore", "ignore", "ignore"] });
}

function cleanup(): void {
  for (const m of mounts.reverse()) unmountBtrfs(m);
  rmSync(root, { recursive: true, force: true });
}

function agentJson(args: string[], agent = AGENT): Record<string, unknown> {
  const r = spawnSync("node", [agent, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`keel-agent ${args[0]} failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
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
  const sha256 = (JSON.parse(readFileSync(b.full.manifestPath, "utf8")) as { stream: { sha256: string } })
    .stream.sha256;
  const before = baselineAgent(REPO, BASE_REF, join(root, "base"));
  const baseCommit = sh("git", ["-C", REPO, "rev-parse", "--short", BASE_REF]).trim();
  const headCommit = sh("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]).trim();
  const sumFile = join(root, "sum");
  // Every side: the same stream file warm in the page cache, the same host file system, every
  // received subvolume deleted (and the deletion waited for) before the next run.
  const plainSide = (script: string) => async (): Promise<Measured> => {
    const dir = join(host, "plain");
    mkdirSync(dir);
    rmSync(sumFile, { force: true });
    const m = await timed("bash", ["-c", `set -eo pipefail; ${script}`, "bash", stream, dir, sumFile]);
    if (script.includes("sha256sum") && !readFileSync(sumFile, "utf8").startsWith(sha256))
      throw new Error(`the pipeline's sha256sum did not see the stream: ${readFileSync(sumFile, "utf8")}`);
    sh("btrfs", ["subvolume", "delete", "-c", join(dir, "1")]);
    rmSync(dir, { recursive: true });
    sh("btrfs", ["subvolume", "sync", host]);
    return m;
  };
  const agentSide = (agent: string) => async (): Promise<Measured> => {
    const m = await timed(
      "node",
      [
        agent,
        "receive",
        "--store",
        host,
        "--trusted",
        trusted,
        "--manifest",
        b.full.manifestPath,
        "--stream",
        stream,
      ],
      { KEEL_AGENT_TIMING: "1" },
    );
    agentJson(["remove", "--store", host, "--trusted", trusted, "big", "1"]);
    sh("btrfs", ["subvolume", "sync", host]);
    return m;
  };
  const sides = {
    plain: {
      what: "plain `btrfs receive -f` (nothing verified)",
      run: plainSide('btrfs receive -q -f "$1" "$2"'),
    },
    tee: {
      what: "`tee >(sha256sum) < stream \\| btrfs receive` (verified while received)",
      // The process substitution through a named pipe: bash does not wait for a `>(…)` (its $! is
      // empty after a pipeline), so its CPU would not be counted; a background job is waited for.
      run: plainSide(
        'f="$3.fifo"; mkfifo "$f"; sha256sum < "$f" > "$3" & tee "$f" < "$1" | btrfs receive -q "$2"; wait $!; rm "$f"',
      ),
    },
    openssl: {
      what: "`openssl dgst -sha256` alone (SHA-NI; coreutils' `sha256sum` does not use it)",
      run: async () => timed("openssl", ["dgst", "-sha256", stream]),
    },
    then: {
      what: "`sha256sum` then `btrfs receive -f` (verified before received)",
      run: plainSide('sha256sum "$1" > "$3"; btrfs receive -q -f "$1" "$2"'),
    },
    before: { what: `\`keel-agent receive\`, ${BASE_REF} (${baseCommit})`, run: agentSide(before) },
    after: { what: `\`keel-agent receive\`, this checkout (${headCommit})`, run: agentSide(AGENT) },
  };
  type Side = keyof typeof sides;
  const order = Object.keys(sides) as Side[];
  const got = Object.fromEntries(order.map((k) => [k, [] as Measured[]])) as Record<Side, Measured[]>;
  const load0 = loadavg();
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < order.length; k++) {
      const side = order[(i + k) % order.length]!;
      warm(stream);
      got[side].push(await sides[side].run());
    }
    process.stderr.write(
      `run ${i + 1}/${RUNS}: ${order.map((k) => `${k} ${got[k].at(-1)!.wallS.toFixed(2)} s / ${got[k].at(-1)!.cpuS.toFixed(2)} s CPU`).join(", ")}\n`,
    );
  }
  const load1 = loadavg();
  const gib = bytes / 2 ** 30;
  const med = (k: Side, f: "wallS" | "cpuS") => median(got[k].map((m) => m[f]));
  const range = (k: Side, f: "wallS" | "cpuS") =>
    `${Math.min(...got[k].map((m) => m[f])).toFixed(2)}–${Math.max(...got[k].map((m) => m[f])).toFixed(2)}`;
  const steps = (k: Side) => {
    const all = got[k].map((m) => agentSteps(m.out));
    return [...(all[0]?.keys() ?? [])]
      .map((n) => `${n} ${median(all.map((s) => s.get(n) ?? 0)).toFixed(0)}`)
      .join(", ");
  };
  const rss = (k: Side) => Math.max(...got[k].map((m) => m.maxRssKiB)) / 1024;
  // The CPU a verified receive needs: btrfs receive + the fastest SHA-256 here (the agent's, OpenSSL's).
  const hashCpu = med("plain", "cpuS") + med("openssl", "cpuS");
  const row = (k: Side, extra: string) =>
    `| ${sides[k].what} | ${med(k, "wallS").toFixed(2)} s (${range(k, "wallS")}) | ${med(k, "cpuS").toFixed(2)} s (${range(k, "cpuS")}), ${(med(k, "cpuS") / gib).toFixed(2)} s/GiB | ${rss(k).toFixed(1)} MiB | ${extra} |`;
  const agentExtra = (k: Side) =>
    `wall: ${(med("tee", "wallS") / med(k, "wallS")).toFixed(2)}× the tee pipeline's speed, ${(med("then", "wallS") / med(k, "wallS")).toFixed(2)}× sha256sum-then-receive's, ${(med("plain", "wallS") / med(k, "wallS")).toFixed(2)}× plain receive's; CPU ${(med(k, "cpuS") / hashCpu).toFixed(2)}× receive + SHA-256 (OpenSSL), ${(med(k, "cpuS") / med("then", "cpuS")).toFixed(2)}× sha256sum-then-receive's; steps (ms) ${steps(k)}`;
  return [
    `~1 GiB full stream (${(bytes / 1048576).toFixed(0)} MiB, 2,000 small + 128 × 8 MiB files); median of ${RUNS} runs per side, the order rotating; load average ${load0} before, ${load1} after. CPU is user + sys of the process tree (\`/usr/bin/time\`; for the agent its \`btrfs receive\`, the check's \`btrfs send --no-data\` and the commit's snapshot included), RSS the largest process's peak.`,
    "",
    "| receive | wall, median (range) | CPU, median (range) | peak RSS | |",
    "| --- | ---: | ---: | ---: | --- |",
    row("plain", ""),
    row("tee", ""),
    row("openssl", ""),
    row("then", ""),
    row("before", agentExtra("before")),
    row("after", `**${agentExtra("after")}** (goals: ≥ 1.0× the verified pipeline, ≤ 1.1× CPU, < 64 MiB)`),
    "",
  ];
}

async function latencyBench(): Promise<string[]> {
  const host = btrfs("lat", 256);
  const keys = join(root, "keys");
  const trusted = join(root, "trusted");
  const src = join(root, "latsrc");
  mkdirSync(src);
  const out = join(root, "latout");
  const bstore = btrfs("latbuild", 256);
  /** Builds version `v` of "lat", a one-file tree that holds its version. */
  const build = (v: string) => {
    writeFileSync(join(src, "app"), `${v}\n`);
    return agentJson([
      "build",
      "--store",
      bstore,
      "--from",
      src,
      "--app",
      "lat",
      "--version",
      v,
      "--key",
      join(keys, "bench.key"),
      "--out",
      out,
    ]) as { full: { manifestPath: string; streamPath: string } };
  };
  const b1 = build("1");
  const b2 = build("2");
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
  sh("node", [join(REPO, "agent/build.mjs")]);
  try {
    const version = (agentJson(["version"]) as { agentVersion: string }).agentVersion;
    const lines = [
      "## Agent",
      "",
      `Measured ${DATE} with \`npm run bench:agent\` (keel-agent ${version}, Node ${process.version}, btrfs-progs ${sh("btrfs", ["--version"]).trim().split(" ").pop()}), loop-mounted btrfs images (noatime) on a shared 2-core VM (other jobs were running; figures are indicative).`,
      "",
      ...(await receiveBench()),
      "| what | measured | result |",
      "| --- | --- | --- |",
      ...(await latencyBench()),
      ...incrementalBench(),
      "",
    ];
    const section = lines.join("\n");
    process.stdout.write(section + "\n");
    if (process.argv.includes("--write")) writeSection(section);
  } finally {
    cleanup();
  }
}

/** Replaces the measured part of "## Agent" (heading, text and its tables) and keeps the hand-written reading after them. */
function writeSection(section: string): void {
  const docs = join(REPO, "docs/benchmarks.md");
  const text = existsSync(docs) ? readFileSync(docs, "utf8") : "# Benchmarks\n\n";
  const start = text.indexOf("## Agent\n");
  if (start < 0) return writeFileSync(docs, `${text.trimEnd()}\n\n${section}`);
  const tables = section
    .split("\n")
    .filter((l, i, all) => l.startsWith("|") && !all[i - 1]?.startsWith("|")).length;
  const lines = text.slice(start).split("\n");
  let i = 0;
  for (let t = 0; t < tables; t++) {
    while (i < lines.length && !lines[i]!.startsWith("|")) i++;
    while (lines[i]?.startsWith("|")) i++;
  }
  writeFileSync(docs, text.slice(0, start) + section.trimEnd() + "\n" + lines.slice(i).join("\n"));
}

main().catch((e) => {
  cleanup();
  console.error(e);
  process.exit(1);
});
