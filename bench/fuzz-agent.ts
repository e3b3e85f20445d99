// npm run fuzz:agent -- [--seconds N] [--seed S] [--backend btrfs|plain|both] [--case I] [--verbose]
// The stream fuzzer of agent/test/fuzz (RELIABILITY case 27), run for longer than CI does: mutated,
// re-signed btrfs-send and keel-tree-1 streams received on a real btrfs loop image and a plain
// store, each checked against the property (refused, or installed exactly as the manifest
// describes; nothing outside .staging changed). Prints the number of cases, refusals by code and
// every counterexample with its seed and case number; `--seed S --case I` replays one case.
// Exits 1 when a counterexample outside the pending classes (run.ts PENDING) was found.
import { buildAgent, scratch } from "@/agent/test/helpers";
import {
  PENDING,
  describeCase,
  runFuzz,
  setupFixture,
  type FuzzBackend,
  type FuzzSummary,
} from "@/agent/test/fuzz/run";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg("seconds") ?? 60);
const seed = Number(arg("seed") ?? Math.floor(Math.random() * 2 ** 31));
const only = arg("case");
const which = arg("backend") ?? "both";
const verbose = process.argv.includes("--verbose");
const backends: FuzzBackend[] = which === "both" ? ["plain", "btrfs"] : [which as FuzzBackend];

async function main(): Promise<number> {
  buildAgent();
  const s = scratch("fuzz");
  let failed = false;
  try {
    console.log(
      `stream fuzzer: seed ${seed}, ${only !== undefined ? `case ${only}` : `${seconds} s per backend`}`,
    );
    for (const backend of backends) {
      const fx = await setupFixture(backend, s);
      const from = only !== undefined ? Number(only) : 0;
      const sum: FuzzSummary = await runFuzz(fx, seed, {
        from,
        to: only !== undefined ? from + 1 : undefined,
        deadline: only !== undefined ? undefined : Date.now() + seconds * 1000,
        onCase: (r) => {
          if (verbose || only !== undefined) console.log(describeCase(r));
        },
      });
      const byCode = Object.entries(sum.outcomes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(", ");
      console.log(`\n${backend}: ${sum.cases} cases — ${byCode}`);
      console.log(
        `  pending classes (${PENDING[backend].join(", ") || "none"}): ${sum.pending.length} cases`,
      );
      for (const r of sum.pending.slice(0, 10)) console.log(`    ${describeCase(r)}`);
      console.log(`  counterexamples: ${sum.counterexamples.length}`);
      for (const r of sum.counterexamples)
        console.log(
          `    ${describeCase(r)}\n      replay: npm run fuzz:agent -- --backend ${backend} --seed ${r.seed} --case ${r.index}`,
        );
      if (sum.counterexamples.length) failed = true;
    }
  } finally {
    s.cleanup();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
