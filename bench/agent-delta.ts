// `npm run bench:agent-delta` — the host's cost of a delta update (issue 16): keel-agent receiving
// next 16.3.8 → 16.4.0 as a delta (decode against the installed parent, verify every chunk against
// the signed manifest, btrfs receive), against what the kernel and a hash cost for the same stream,
// on real btrfs loop images, all in one run:
//   - plain `btrfs receive -f` of the incremental stream (CPU, wall);
//   - `sha256sum` of the stream (CPU);
//   - the agent as it is on the baseline ref (default `main`, bundled from `git archive`) — "before";
//   - the agent of this checkout — "after";
// both agents once per delta format (BENCH_FORMATS, default "1,2"), each as the console sends it:
// format 1 as keel-delta-1, format 2 as keel-delta-2.
// Each side runs BENCH_RUNS times (default 5), the order rotating; medians are quoted. CPU is the
// process tree's (user + sys, children included: /usr/bin/time), peak RSS the agent's VmHWM.
// Env: BENCH_BASE_REF (default main), BENCH_RUNS, KEEL_BENCH_CACHE (npm tarballs), BENCH_KEEP=1
// (keep the work directory and print it). Prints a Markdown table; --write puts it in
// docs/benchmarks.md under "## Agent delta decode".
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { encodeDelta } from "@/agent/protocol/delta/encode";
import { fetchPackage } from "@/agent/protocol/delta/test-fixtures";
import { compressDeltaHeader } from "@/agent/protocol/wire/delta-header";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";
import { agentSteps, baselineAgent, loadavg, median, sh, timed, type Measured } from "./measure";

const REPO = resolve(__dirname, "..");
const DATE = process.env.KEEL_BENCH_DATE ?? "2026-12-06";
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASE_REF = process.env.BENCH_BASE_REF ?? "main";
const PKG = { name: "next", from: "16.3.8", to: "16.4.0" };
type Format = 1 | 2;
/** Delta formats measured (BENCH_FORMATS, default "1,2"): each as the console sends it. */
const FORMATS = (process.env.BENCH_FORMATS ?? "1,2").split(",").map((v) => Number(v) as Format);
const CACHE = process.env.KEEL_BENCH_CACHE ?? join(tmpdir(), "keel-bench-cache");
const root = mkdtempSync(join(tmpdir(), "keel-bench-agent-delta-"));
const mounts: string[] = [];

function btrfs(name: string, sizeMiB: number): string {
  const mnt = mountBtrfs(root, name, `${sizeMiB}M`, { noatime: true });
  mounts.push(mnt);
  return mnt;
}

function cleanup(): void {
  for (const m of mounts.reverse()) unmountBtrfs(m);
  if (process.env.BENCH_KEEP) console.error(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}

function agentJson(agent: string, args: string[]): Record<string, unknown> {
  return JSON.parse(sh("node", [agent, ...args])) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  sh("node", [join(REPO, "agent/build.mjs")]);
  const after = join(REPO, "agent/dist/keel-agent.mjs");
  const before = baselineAgent(REPO, BASE_REF, join(root, "base"));
  const baseCommit = sh("git", ["-C", REPO, "rev-parse", "--short", BASE_REF]).trim();
  const headCommit = sh("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]).trim();

  const build = btrfs("build", 2048);
  const host = btrfs("host", 2048);
  const keys = join(root, "keys");
  agentJson(after, ["keygen", "--out", keys, "--name", "bench"]);
  const trusted = join(root, "trusted");
  mkdirSync(trusted);
  writeFileSync(join(trusted, "bench.pub"), readFileSync(join(keys, "bench.pub")));
  const out = join(root, "out");
  type Built = {
    full: { manifestPath: string; streamPath: string };
    incremental: { manifestPath: string; streamPath: string; bytes: number } | null;
  };
  const builds: Record<string, Built> = {};
  for (const v of [PKG.from, PKG.to]) {
    const src = join(root, `src-${v}`);
    console.error(`fetch ${PKG.name}@${v}`);
    await fetchPackage(PKG.name, v, CACHE, src);
    const parent = v === PKG.to ? ["--parent", PKG.from] : [];
    builds[v] = agentJson(after, [
      "build",
      "--store",
      build,
      "--from",
      src,
      "--app",
      PKG.name,
      "--version",
      v,
      "--key",
      join(keys, "bench.key"),
      "--out",
      out,
      ...parent,
    ]) as unknown as Built;
    rmSync(src, { recursive: true, force: true });
  }
  const inc = builds[PKG.to]!.incremental!;
  const S = ["--store", host, "--trusted", trusted];
  agentJson(after, [
    "receive",
    ...S,
    "--manifest",
    builds[PKG.from]!.full.manifestPath,
    "--stream",
    builds[PKG.from]!.full.streamPath,
  ]);

  // The deltas as the console sends them: format 1 as keel-delta-1 (its raw form), format 2 as
  // keel-delta-2 (header brotli-compressed, decision 0040).
  type Enc = Awaited<ReturnType<typeof encodeDelta>> & { file: string; wire: string; wireBytes: number };
  const encs = new Map<Format, Enc>();
  for (const version of FORMATS) {
    console.error(`encode the format-${version} delta against the parent (console side)`);
    const raw = join(out, `next.v${version}.delta`);
    const ws = createWriteStream(raw);
    const enc = await encodeDelta({
      parentDir: join(build, "apps", PKG.name, PKG.from),
      target: inc.streamPath,
      out: ws,
      version,
    });
    ws.end();
    await once(ws, "close");
    if (version === 1) {
      encs.set(version, { ...enc, file: raw, wire: "keel-delta-1", wireBytes: enc.bytes });
      continue;
    }
    const file = join(out, "next.keel-delta-2");
    await pipeline(compressDeltaHeader(createReadStream(raw), 2), createWriteStream(file));
    encs.set(version, { ...enc, file, wire: "keel-delta-2", wireBytes: statSync(file).size });
  }

  const warm = () => {
    for (const f of [inc.streamPath, ...[...encs.values()].map((e) => e.file)]) readFileSync(f);
  };
  const plain = async (): Promise<Measured> => {
    const dir = join(host, "plain");
    mkdirSync(dir);
    const m = await timed("btrfs", ["receive", "-q", "-f", inc.streamPath, dir]);
    sh("btrfs", ["subvolume", "delete", "-c", join(dir, PKG.to)]);
    rmSync(dir, { recursive: true });
    sh("btrfs", ["subvolume", "sync", host]);
    return m;
  };
  const sha = () => timed("sha256sum", [inc.streamPath]);
  const ossl = () => timed("openssl", ["dgst", "-sha256", inc.streamPath]);
  type AgentRun = Measured & { steps: Map<string, number> };
  const agentRun = async (agent: string, version: Format): Promise<AgentRun> => {
    const e = encs.get(version)!;
    const m = await timed(
      "node",
      [agent, "receive", ...S, "--manifest", inc.manifestPath, "--stream", e.file, "--wire", e.wire],
      { KEEL_AGENT_TIMING: "1" },
    );
    const steps = agentSteps(m.out);
    agentJson(after, ["remove", ...S, PKG.name, PKG.to]);
    sh("btrfs", ["subvolume", "sync", host]);
    return { ...m, steps };
  };
  const sides = {
    plain: [] as Measured[],
    sha: [] as Measured[],
    ossl: [] as Measured[],
  };
  const agents = new Map<string, AgentRun[]>();
  const order: string[] = ["plain", "sha", "ossl"];
  for (const v of FORMATS) for (const w of ["before", "after"]) order.push(`${w}-${v}`);
  for (const side of order.slice(3)) agents.set(side, []);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < order.length; k++) {
      const side = order[(i + k) % order.length]!;
      warm();
      if (side === "plain") sides.plain.push(await plain());
      else if (side === "sha") sides.sha.push(await sha());
      else if (side === "ossl") sides.ossl.push(await ossl());
      else {
        const [who, v] = side.split("-") as ["before" | "after", string];
        agents.get(side)!.push(await agentRun(who === "before" ? before : after, Number(v) as Format));
      }
    }
    const last = (xs: Measured[]) => `${xs.at(-1)!.cpuS.toFixed(2)} s CPU / ${xs.at(-1)!.wallS.toFixed(2)} s`;
    console.error(
      `run ${i + 1}/${RUNS}: receive ${last(sides.plain)}, sha256 ${last(sides.sha)}, ` +
        [...agents].map(([side, xs]) => `${side} ${last(xs)}`).join(", "),
    );
  }
  const load1 = loadavg();
  const med = (xs: Measured[], k: "cpuS" | "wallS") => median(xs.map((x) => x[k]));
  const range = (xs: Measured[], k: "cpuS" | "wallS") =>
    `${Math.min(...xs.map((x) => x[k])).toFixed(2)}–${Math.max(...xs.map((x) => x[k])).toFixed(2)}`;
  const floor = med(sides.plain, "cpuS") + med(sides.sha, "cpuS");
  // The same with the fastest SHA-256 on the machine (OpenSSL with SHA-NI, as the agent hashes).
  const floorOssl = med(sides.plain, "cpuS") + med(sides.ossl, "cpuS");
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const steps = (xs: AgentRun[]) =>
    [...(xs[0]?.steps.keys() ?? [])]
      .map((n) => `${n} ${median(xs.map((x) => x.steps.get(n) ?? 0)).toFixed(0)}`)
      .join(", ");
  const row = (what: string, xs: Measured[], extra = "") =>
    `| ${what} | ${med(xs, "cpuS").toFixed(2)} s (${range(xs, "cpuS")}) | ${med(xs, "wallS").toFixed(2)} s (${range(xs, "wallS")}) | ${mib(Math.max(...xs.map((x) => x.maxRssKiB)))} MiB | ${extra} |`;
  const ratio = (xs: Measured[]) =>
    `${(med(xs, "cpuS") / floor).toFixed(2)}× of receive + sha256sum, ${(med(xs, "cpuS") / floorOssl).toFixed(2)}× of receive + OpenSSL SHA-256`;
  const deltas = FORMATS.map((v) => {
    const e = encs.get(v)!;
    return `${e.wire} ${(e.wireBytes / 1e6).toFixed(2)} MB (format ${v}; copied ${(e.copiedBytes / 1e6).toFixed(1)} MB, literals ${(e.literalBytes / 1e6).toFixed(1)} MB)`;
  }).join(", ");
  const lines = [
    "## Agent delta decode",
    "",
    `Measured ${DATE} with \`npm run bench:agent-delta\`: ${PKG.name} ${PKG.from} → ${PKG.to} (npm pack; built with \`keel-agent build --parent\` on a btrfs loop image), incremental stream ${(inc.bytes / 1e6).toFixed(1)} MB, ${deltas}. The host holds ${PKG.from} (received from its full stream). Median of ${RUNS} runs per side, the order rotating, the stream and the deltas warm in the page cache; CPU is user + sys of the process tree (\`/usr/bin/time\`, \`btrfs receive\` included for the agent), RSS the largest process's peak. "before" is the agent of \`${BASE_REF}\` (${baseCommit}), "after" this checkout (${headCommit}). Node ${process.version}, ${sh("btrfs", ["--version"]).trim()}; shared 2-core VM, load average ${load0} before, ${load1} after.`,
    "",
    "| what | CPU, median (range) | wall, median (range) | peak RSS | |",
    "| --- | ---: | ---: | ---: | --- |",
    row("plain `btrfs receive -f` of the stream", sides.plain),
    row("`sha256sum` of the stream", sides.sha),
    row("`openssl dgst -sha256` of the stream (SHA-NI)", sides.ossl),
  ];
  for (const v of FORMATS) {
    const wire = encs.get(v)!.wire;
    const b = agents.get(`before-${v}`)!;
    const a = agents.get(`after-${v}`)!;
    lines.push(
      row(
        `keel-agent receive --wire ${wire}, before (${BASE_REF})`,
        b,
        `${ratio(b)}; steps (ms) ${steps(b)}`,
      ),
      row(
        `keel-agent receive --wire ${wire}, after`,
        a,
        `**${ratio(a)}** (goal ≤ 1.5×); steps (ms) ${steps(a)}`,
      ),
      `| ${wire}: after / before | ${(med(a, "cpuS") / med(b, "cpuS")).toFixed(2)}× CPU | ${(med(a, "wallS") / med(b, "wallS")).toFixed(2)}× wall | | |`,
    );
  }
  lines.push("");
  const section = lines.join("\n");
  process.stdout.write(section + "\n");
  if (process.argv.includes("--write")) {
    const docs = join(REPO, "docs/benchmarks.md");
    const text = readFileSync(docs, "utf8");
    const start = text.indexOf("## Agent delta decode\n");
    if (start < 0) {
      writeFileSync(docs, `${text.trimEnd()}\n\n${section}`);
    } else {
      // Replaces heading, "Measured …" line and table; keeps the reading that follows the table.
      const rest = text.slice(start).split("\n");
      let i = rest.findIndex((l) => l.startsWith("|"));
      while (rest[i]?.startsWith("|")) i++;
      writeFileSync(docs, text.slice(0, start) + section.trimEnd() + "\n" + rest.slice(i).join("\n"));
    }
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!existsSync(root)) return;
    cleanup();
  });
