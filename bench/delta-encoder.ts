// `npm run bench:delta-encoder` (root) — the console's delta encoder (issue 16, decision 0031): for
// each pair, the encoder of the baseline ref (default `main`, from `git archive`) and this checkout's
// encode the same `btrfs send -p` stream against the same parent subvolume, alternating, each in its
// own process: wall, CPU, peak RSS (process.resourceUsage().maxRSS, and the same before the encoder
// module is loaded), bytes. Then the host's decode
// of both deltas with this checkout's decoder (DeltaDecoder as the agent runs it, output compared with
// the stream): CPU and wall, alternating. Medians of BENCH_RUNS runs (default 3).
// Env: BENCH_BASE_REF, BENCH_RUNS, BENCH_PAIRS (e.g. next), BENCH_DELTA_VERSION (default 2), KEEL_BENCH_CACHE (npm tarballs), BENCH_KEEP=1. --write puts the
// table in docs/benchmarks.md under "## Delta encoder".
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { btrfsLoop, buildVersionPair, fetchPackage, run } from "@/agent/protocol/delta/test-fixtures";

const REPO = resolve(__dirname, "..");
const DATE = process.env.KEEL_BENCH_DATE ?? new Date().toISOString().slice(0, 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BASE_REF = process.env.BENCH_BASE_REF ?? "main";
const CACHE = process.env.KEEL_BENCH_CACHE ?? join(tmpdir(), "keel-bench-cache");
const PAIRS = [
  { pkg: "typescript", from: "5.8.2", to: "5.8.3" },
  { pkg: "next", from: "16.3.8", to: "16.4.0" },
].filter((p) => !process.env.BENCH_PAIRS || process.env.BENCH_PAIRS.split(",").includes(p.pkg));
const CHILD = join(__dirname, "delta-encoder-child.ts");
const TSX = join(REPO, "node_modules/.bin/tsx");

type Fig = {
  wallMs: number;
  cpuMs: number;
  maxRssKiB: number;
  startRssKiB?: number;
  bytes: number;
  copiedBytes?: number;
};

function child(args: string[]): Fig {
  const r = spawnSync(TSX, [CHILD, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Fig;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type Side = "before" | "after";
const order = (i: number): Side[] => (i % 2 ? ["after", "before"] : ["before", "after"]);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: REPO }).toString().trim();

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "keel-bench-delta-encoder-"));
  const load0 = loadavg();
  const base = join(work, "base");
  mkdirSync(base);
  sh("sh", ["-c", `git archive ${BASE_REF} agent/protocol/delta | tar -x -C ${base}`]);
  const sides = { before: join(base, "agent/protocol/delta"), after: join(REPO, "agent/protocol/delta") };
  const loop = await btrfsLoop(work, 2);
  const rows: string[] = [];
  try {
    for (const p of PAIRS) {
      const name = `${p.pkg} ${p.from} → ${p.to}`;
      const src = join(work, p.pkg);
      await fetchPackage(p.pkg, p.from, CACHE, join(src, "old"));
      await fetchPackage(p.pkg, p.to, CACHE, join(src, "new"));
      const oldSub = join(loop.mnt, `${p.pkg}-old`);
      const newSub = join(loop.mnt, `${p.pkg}-new`);
      await buildVersionPair(loop.mnt, join(src, "old"), join(src, "new"), `${p.pkg}-old`, `${p.pkg}-new`);
      const inc = join(work, `${p.pkg}.inc`);
      await run("btrfs", ["send", "-q", "-p", oldSub, "-f", inc, newSub]);
      const enc: Record<Side, Fig[]> = { before: [], after: [] };
      const dec: Record<Side, Fig[]> = { before: [], after: [] };
      for (let i = 0; i < RUNS; i++) {
        for (const side of order(i)) {
          enc[side].push(child(["encode", sides[side], oldSub, inc, join(work, `${p.pkg}.${side}.delta`)]));
          console.error(`[${name}] encode ${side} ${JSON.stringify(enc[side].at(-1))}`);
        }
      }
      for (let i = 0; i < RUNS; i++) {
        for (const side of order(i)) {
          dec[side].push(child(["decode", oldSub, join(work, `${p.pkg}.${side}.delta`), inc]));
          console.error(`[${name}] decode ${side} ${JSON.stringify(dec[side].at(-1))}`);
        }
      }
      const m = (xs: Fig[], k: keyof Fig) => median(xs.map((x) => x[k] ?? 0));
      const b = enc.before[0]!.bytes;
      for (const side of order(0)) {
        const e = enc[side];
        const d = dec[side];
        rows.push(
          `| ${name} | ${side === "before" ? `before (${BASE_REF})` : "after"} | ${(statSync(inc).size / 1e6).toFixed(1)} MB | ` +
            `${(e[0]!.bytes / 1024).toFixed(1)} KiB (${((e[0]!.bytes / b) * 100).toFixed(1)} %) | ` +
            `${(m(e, "wallMs") / 1000).toFixed(1)} s | ${(m(e, "cpuMs") / 1000).toFixed(1)} s | ` +
            `${(m(e, "maxRssKiB") / 1024).toFixed(0)} MiB | ${(m(e, "startRssKiB") / 1024).toFixed(0)} MiB | ` +
            `${(m(d, "cpuMs") / 1000).toFixed(2)} s | ` +
            `${(m(d, "wallMs") / 1000).toFixed(2)} s |`,
        );
      }
      await run("rm", ["-f", inc]);
    }
  } finally {
    await loop.close();
    if (process.env.BENCH_KEEP) console.error(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const baseCommit = sh("git", ["rev-parse", "--short", BASE_REF]);
  const headCommit = sh("git", ["rev-parse", "--short", "HEAD"]);
  const section = [
    "## Delta encoder",
    "",
    `Measured ${DATE} with \`npm run bench:delta-encoder\`: each pair's \`btrfs send -p\` stream encoded against the parent subvolume by the encoder of \`${BASE_REF}\` (${baseCommit}, "before") and of this checkout (${headCommit}, "after"), each in its own \`node\` process, alternating; then both deltas decoded by the same decoder (\`DeltaDecoder\` as the agent runs it, output checked against the stream). Format ${process.env.BENCH_DELTA_VERSION === "1" ? 1 : 2}. Medians of ${RUNS} runs; peak RSS is the encoding process's \`maxRSS\` ("at start": its \`maxRSS\` before the encoder module was loaded — node and tsx's loader), decode CPU the decoding process's user + sys for the decode alone. Node ${process.version}; shared 2-core VM, load average ${load0} before, ${loadavg()} after.`,
    "",
    "| pair | encoder | send -p stream | delta (vs before) | encode wall | encode CPU | encode peak RSS | of which at start | host decode CPU | host decode wall |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
  console.log(section);
  if (process.argv.includes("--write")) {
    const doc = join(REPO, "docs/benchmarks.md");
    const text = readFileSync(doc, "utf8");
    const at = text.indexOf("## Delta encoder\n");
    const next = at < 0 ? -1 : text.indexOf("\n## ", at + 1);
    const updated =
      at < 0
        ? `${text.trimEnd()}\n\n${section}`
        : text.slice(0, at) + section + (next < 0 ? "" : text.slice(next));
    writeFileSync(doc, updated);
  }
}

void main();
